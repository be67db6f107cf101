"""The sandbox's engagement streams outside the CRM objects, one module per family of HubSpot's API.

`email_events` (legacy v1 marketing email events) · `forms` (forms and their legacy v1 submissions) ·
`web_events` (events API v3, page views) · `marketing_events` (webinars and their participations) · `routes`
(the route table the server mounts). Shared by them: `rows` (a row's UUID, the offset a page starts at).
"""
