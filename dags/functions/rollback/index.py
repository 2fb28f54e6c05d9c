def main_handler(event, context):
    return {"service": event["service"], "rolled_back_to": "previous"}
