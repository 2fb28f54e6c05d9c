def main_handler(event, context):
    return {"step": "review", "approved": not event["video"].endswith("blocked.mp4")}
