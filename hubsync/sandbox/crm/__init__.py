"""The sandbox's CRM endpoints, one module per family of HubSpot's CRM API.

`objects` (list, read, create, update, archive, merge, batch) · `search` · `properties` (and groups) · `owners` ·
`associations` (v4) · `routes` (the route table the server mounts). Shared by them: `parsing` (what a request
sends, property validation) and `answers` (a record as JSON, paging, batch results).
"""
