def main_handler(event, context):
    return {"step": "transcode", "video": event["video"], "done": True}
