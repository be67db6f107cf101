"""One small adapter per HubSpot stream: each knows its endpoint, its paging and its mapping to records, and
nothing else, so replacing a legacy endpoint (email events, form submissions are v1) is a change to one file."""
