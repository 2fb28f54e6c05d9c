"""The cloud function of Tencent's Map example: a student's average score (SCF Python convention)."""


def main_handler(event, context):
    scores = event["score"]
    return {"user": event["user"], "average": sum(scores) / len(scores)}
