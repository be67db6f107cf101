"""HubSpot webhooks: the v3 signature, a request's events, what they ask to read again, and the receiver (an ASGI
app on uvicorn, inside `hubsync run`) with its health and metrics endpoints. Nothing here touches the database or
HubSpot: the receiver is handed what stores events and what reports health (`hubsync/jobs/realtime.py`)."""
