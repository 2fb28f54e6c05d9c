"""The in-process engine: runs TCSL workflows without a scheduler (tests, Express workflows, loops)."""
