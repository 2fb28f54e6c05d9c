def main_handler(event, context):
    """Healthy after two checks: the workflow polls in a loop until then."""
    deployment = dict(event["deployment"])
    deployment["checks"] += 1
    deployment["status"] = "HEALTHY" if deployment["checks"] >= 2 else "ROLLING_OUT"
    return deployment
