"""``python -m asw_airflow`` is the ``asw`` command."""

import sys

from asw_airflow.cli import main

sys.exit(main())
