def main_handler(event, context):
    return {"symbol": event["symbol"], "volume": event["volume"], "rank": event["rank"]}
