def main_handler(event, context):
    return [{"index": i, "start": i * event["segment_seconds"]} for i in range(3)]
