"""The use cases: each module runs one job against HubSpot (through hubspot/) and the store, scoring with scoring/."""
