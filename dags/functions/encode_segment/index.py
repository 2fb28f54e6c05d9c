def main_handler(event, context):
    return {"index": event["index"], "encoded": True}
