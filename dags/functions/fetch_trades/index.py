def main_handler(event, context):
    """Trade volumes of the window per symbol (a fixed sample; a real one would query the exchange)."""
    volumes = {"600519": 9100, "000001": 12000, "601318": 8800, "600036": 7600, "000858": 6400, "002594": 15000, "300750": 11000}
    ordered = sorted(volumes.items(), key=lambda item: -item[1])
    return {"market": event.get("market"), "symbols": [{"symbol": s, "volume": v, "rank": i + 1} for i, (s, v) in enumerate(ordered)]}
