def main_handler(event, context):
    return {"service": event["service"], "version": event["version"], "status": "ROLLING_OUT", "checks": 0}
