"""The HTTP and event edge, one Chalice Blueprint per area, registered by app.py.

Each handler parses and verifies at the edge, makes one domain call and renders (at most 15
lines); errors reach the client in our one JSON shape through `edge.Area`, the one place that maps
them. Handlers import what they use when they run, so `import app` stays near the floor.
"""
