"""The properties and property groups each object type has: HubSpot's built-in ones with their enumeration values,
the properties a list answers with by default, and a portal's catalog (built-in plus created).

Names and values follow HubSpot's public documentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubsync.sandbox.schema import (
    CALLS,
    COMMUNICATIONS,
    COMPANIES,
    CONTACTS,
    DEAL_SPLITS,
    DEALS,
    EMAILS,
    FEEDBACK_SUBMISSIONS,
    GOALS,
    LEADS,
    LINE_ITEMS,
    MEETINGS,
    NOTES,
    POSTAL_MAIL,
    PRODUCTS,
    QUOTES,
    TASKS,
    TICKETS,
)


@dataclass(frozen=True, slots=True)
class PropertyDef:
    name: str
    label: str
    type: str  # string, number, date, datetime, enumeration, bool
    field_type: str
    group: str
    options: tuple[str, ...] = ()
    hubspot_defined: bool = True
    read_only: bool = False
    external_options: bool = False
    description: str = ""
    display_order: int = -1
    created_at: int = 0

    def to_json(self, iso: str) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": [
                {"label": o.replace("_", " ").title(), "value": o, "displayOrder": i, "hidden": False}
                for i, o in enumerate(self.options)
            ],
            "displayOrder": self.display_order,
            "calculated": False,
            "externalOptions": self.external_options,
            "hasUniqueValue": self.name == "email",
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "formField": not self.read_only,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "createdAt": iso,
            "updatedAt": iso,
            "archived": False,
        }

    def to_legacy_json(self) -> dict[str, object]:
        """The definition as the legacy properties API (v1/v2) sends it: flat flags, times in milliseconds."""
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "groupName": self.group,
            "type": self.type,
            "fieldType": self.field_type,
            "options": [
                {
                    "label": o.replace("_", " ").title(),
                    "value": o,
                    "description": "",
                    "displayOrder": i,
                    "hidden": False,
                    "readOnly": self.hubspot_defined,
                }
                for i, o in enumerate(self.options)
            ],
            "displayOrder": self.display_order,
            "formField": not self.read_only,
            "readOnlyValue": self.read_only,
            "readOnlyDefinition": self.hubspot_defined,
            "hidden": False,
            "mutableDefinitionNotDeletable": self.hubspot_defined,
            "favorited": False,
            "favoritedOrder": -1,
            "calculated": False,
            "externalOptions": self.external_options,
            "displayMode": "current_value",
            "deleted": False,
            "hubspotDefined": self.hubspot_defined or None,
            "hasUniqueValue": self.name == "email",
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
            "createdUserId": None,
            "updatedUserId": None,
        }


@dataclass(frozen=True, slots=True)
class GroupDef:
    name: str
    label: str
    display_order: int = -1

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "label": self.label, "displayOrder": self.display_order, "archived": False}


def _p(
    name: str,
    label: str,
    kind: str = "string",
    group: str = "",
    options: tuple[str, ...] = (),
    *,
    read_only: bool = False,
    external: bool = False,
) -> PropertyDef:
    field_type = {
        "string": "text",
        "number": "number",
        "datetime": "date",
        "date": "date",
        "bool": "booleancheckbox",
        "enumeration": "select",
    }[kind]
    return PropertyDef(name, label, kind, field_type, group, options, read_only=read_only, external_options=external)


_OWNER = _p("hubspot_owner_id", "Owner", "enumeration", "", external=True)

INDUSTRIES: tuple[str, ...] = (
    "COMPUTER_SOFTWARE",
    "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "MECHANICAL_OR_INDUSTRIAL_ENGINEERING",
    "AUTOMOTIVE",
    "HOSPITAL_HEALTH_CARE",
    "RETAIL",
    "FINANCIAL_SERVICES",
    "MARKETING_AND_ADVERTISING",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "CONSTRUCTION",
    "ELECTRICAL_ELECTRONIC_MANUFACTURING",
    "MANAGEMENT_CONSULTING",
    "HIGHER_EDUCATION",
    "FOOD_PRODUCTION",
)
LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "other")
DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)
TASK_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")
TASK_PRIORITIES = ("NONE", "LOW", "MEDIUM", "HIGH")
TASK_TYPES = ("TODO", "CALL", "EMAIL", "LINKED_IN", "MEETING")


TICKET_STAGES = ("1", "2", "3", "4")  # HubSpot's default support pipeline: new, waiting on contact, on us, closed
TICKET_PRIORITIES = ("LOW", "MEDIUM", "HIGH")
LEAD_STAGES = (
    "new-stage-id",
    "attempting-stage-id",
    "connected-stage-id",
    "qualified-stage-id",
    "unqualified-stage-id",
)


def _record(group: str, *, created: str = "hs_createdate", owner: str = "Owner") -> tuple[PropertyDef, ...]:
    """The properties every record of a type has: its id, create and modified dates, and its owner."""
    return (
        _p("hs_object_id", "Record ID", "number", group, read_only=True),
        _p(created, "Create Date", "datetime", group, read_only=True),
        _p("hs_lastmodifieddate", "Last Modified Date", "datetime", group, read_only=True),
        PropertyDef(_OWNER.name, owner, "enumeration", "select", group, external_options=True),
    )


def _common(group: str) -> tuple[PropertyDef, ...]:
    """An activity's: a record's, plus the activity date."""
    *dates, owner = _record(group, owner="Activity assigned to")
    return (*dates, _p("hs_timestamp", "Activity date", "datetime", group), owner)


BUILTIN_PROPERTIES: dict[str, tuple[PropertyDef, ...]] = {
    CONTACTS: (
        _p("email", "Email", "string", "contactinformation"),
        _p("firstname", "First Name", "string", "contactinformation"),
        _p("lastname", "Last Name", "string", "contactinformation"),
        _p("jobtitle", "Job Title", "string", "contactinformation"),
        _p("company", "Company Name", "string", "contactinformation"),
        _p("phone", "Phone Number", "string", "contactinformation"),
        _p("city", "City", "string", "contactinformation"),
        _p("country", "Country/Region", "string", "contactinformation"),
        _p("lifecyclestage", "Lifecycle Stage", "enumeration", "contactinformation", LIFECYCLE),
        _p(
            "hs_lead_status",
            "Lead Status",
            "enumeration",
            "sales_properties",
            (
                "NEW",
                "OPEN",
                "IN_PROGRESS",
                "OPEN_DEAL",
                "UNQUALIFIED",
                "ATTEMPTED_TO_CONTACT",
                "CONNECTED",
                "BAD_TIMING",
            ),
        ),
        # HubSpot stamps these when a contact enters the stage (the sandbox's simulated sales team does: sales.py).
        *(
            _p(f"hs_lifecyclestage_{stage}_date", f"Date entered {stage}", "datetime", "contactinformation")
            for stage in LIFECYCLE[1:6]
        ),
        PropertyDef(_OWNER.name, "Contact owner", "enumeration", "select", "sales_properties", external_options=True),
        _p("associatedcompanyid", "Primary Associated Company ID", "number", "contactinformation"),
        _p("hs_email_optout", "Unsubscribed from all email", "bool", "contactinformation", read_only=True),
        _p("hs_merged_object_ids", "Merged Contact IDs", "enumeration", "contactinformation", read_only=True),
        # Set by HubSpot on every form submission (the latest one's time).
        _p("recent_conversion_date", "Recent Conversion Date", "datetime", "contactinformation", read_only=True),
        _p("recent_conversion_event_name", "Recent Conversion", "string", "contactinformation", read_only=True),
        _p("hs_object_id", "Record ID", "number", "contactinformation", read_only=True),
        _p("createdate", "Create Date", "datetime", "contactinformation", read_only=True),
        _p("lastmodifieddate", "Last Modified Date", "datetime", "contactinformation", read_only=True),
    ),
    COMPANIES: (
        _p("name", "Company name", "string", "companyinformation"),
        _p("domain", "Company Domain Name", "string", "companyinformation"),
        _p("industry", "Industry", "enumeration", "companyinformation", INDUSTRIES),
        # HubSpot's own field is a number; portals that imported sizes as text hold "50-100" and "1,000",
        # which is what hubsync must parse, so the sandbox keeps it as text.
        _p("numberofemployees", "Number of Employees", "string", "companyinformation"),
        _p("annualrevenue", "Annual Revenue", "number", "companyinformation"),
        _p("city", "City", "string", "companyinformation"),
        _p("country", "Country/Region", "string", "companyinformation"),
        _p("lifecyclestage", "Lifecycle Stage", "enumeration", "companyinformation", LIFECYCLE),
        PropertyDef(_OWNER.name, "Company owner", "enumeration", "select", "companyinformation", external_options=True),
        _p("hs_object_id", "Record ID", "number", "companyinformation", read_only=True),
        _p("createdate", "Create Date", "datetime", "companyinformation", read_only=True),
        _p("hs_lastmodifieddate", "Last Modified Date", "datetime", "companyinformation", read_only=True),
    ),
    DEALS: (
        _p("dealname", "Deal Name", "string", "dealinformation"),
        _p("amount", "Amount", "number", "dealinformation"),
        _p("dealstage", "Deal Stage", "enumeration", "dealinformation", DEAL_STAGES),
        _p("pipeline", "Pipeline", "enumeration", "dealinformation", ("default",)),
        _p("closedate", "Close Date", "datetime", "dealinformation"),
        _p("closed_lost_reason", "Closed Lost Reason", "string", "dealinformation"),
        PropertyDef(_OWNER.name, "Deal owner", "enumeration", "select", "dealinformation", external_options=True),
        _p("hs_object_id", "Record ID", "number", "dealinformation", read_only=True),
        _p("createdate", "Create Date", "datetime", "dealinformation", read_only=True),
        _p("hs_lastmodifieddate", "Last Modified Date", "datetime", "dealinformation", read_only=True),
    ),
    TASKS: (
        *_common("task"),
        _p("hs_task_subject", "Task Title", "string", "task"),
        _p("hs_task_body", "Task notes", "string", "task"),
        _p("hs_task_status", "Task Status", "enumeration", "task", TASK_STATUSES),
        _p("hs_task_priority", "Priority", "enumeration", "task", TASK_PRIORITIES),
        _p("hs_task_type", "Task Type", "enumeration", "task", TASK_TYPES),
        _p("hs_task_completion_date", "Completed at", "datetime", "task"),
    ),
    EMAILS: (
        *_common("email"),
        _p(
            "hs_email_direction",
            "Email direction",
            "enumeration",
            "email",
            ("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
        ),
        _p("hs_email_subject", "Email subject", "string", "email"),
        _p("hs_email_text", "Email body", "string", "email"),
        _p(
            "hs_email_status",
            "Email send status",
            "enumeration",
            "email",
            ("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"),
        ),
    ),
    CALLS: (
        *_common("call"),
        _p("hs_call_direction", "Call direction", "enumeration", "call", ("INBOUND", "OUTBOUND")),
        _p("hs_call_title", "Call Title", "string", "call"),
        _p("hs_call_body", "Call notes", "string", "call"),
        _p("hs_call_duration", "Call duration", "number", "call"),
        _p(
            "hs_call_status",
            "Call status",
            "enumeration",
            "call",
            (
                "BUSY",
                "CALLING_CRM_USER",
                "CANCELED",
                "COMPLETED",
                "CONNECTING",
                "FAILED",
                "IN_PROGRESS",
                "NO_ANSWER",
                "QUEUED",
                "RINGING",
            ),
        ),
    ),
    MEETINGS: (
        *_common("meeting"),
        _p("hs_meeting_title", "Meeting name", "string", "meeting"),
        _p("hs_meeting_body", "Meeting description", "string", "meeting"),
        _p("hs_meeting_start_time", "Start time", "datetime", "meeting"),
        _p("hs_meeting_end_time", "End time", "datetime", "meeting"),
        _p(
            "hs_meeting_outcome",
            "Meeting outcome",
            "enumeration",
            "meeting",
            ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
        ),
    ),
    NOTES: (*_common("note"), _p("hs_note_body", "Note body", "string", "note")),
    # HubSpot's other standard types, with the properties that say what a record is; a generated portal holds none.
    TICKETS: (
        *_record("ticketinformation", created="createdate", owner="Ticket owner"),
        _p("subject", "Ticket name", "string", "ticketinformation"),
        _p("content", "Ticket description", "string", "ticketinformation"),
        _p("hs_pipeline", "Pipeline", "enumeration", "ticketinformation", ("0",)),
        _p("hs_pipeline_stage", "Ticket status", "enumeration", "ticketinformation", TICKET_STAGES),
        _p("hs_ticket_priority", "Priority", "enumeration", "ticketinformation", TICKET_PRIORITIES),
        _p("hs_ticket_category", "Category", "string", "ticketinformation"),
    ),
    PRODUCTS: (
        *_record("productinformation"),
        _p("name", "Name", "string", "productinformation"),
        _p("description", "Description", "string", "productinformation"),
        _p("price", "Unit price", "number", "productinformation"),
        _p("hs_sku", "SKU", "string", "productinformation"),
    ),
    LINE_ITEMS: (
        *_record("lineiteminformation"),
        _p("name", "Name", "string", "lineiteminformation"),
        _p("price", "Unit price", "number", "lineiteminformation"),
        _p("quantity", "Quantity", "number", "lineiteminformation"),
        _p("amount", "Net price", "number", "lineiteminformation", read_only=True),
        _p("hs_product_id", "Product ID", "number", "lineiteminformation"),
    ),
    QUOTES: (
        *_record("quoteinformation"),
        _p("hs_title", "Quote name", "string", "quoteinformation"),
        _p("hs_expiration_date", "Expiration date", "datetime", "quoteinformation"),
        _p(
            "hs_status",
            "Quote approval status",
            "enumeration",
            "quoteinformation",
            ("DRAFT", "APPROVAL_NOT_NEEDED", "PENDING_APPROVAL", "APPROVED", "REJECTED"),
        ),
    ),
    COMMUNICATIONS: (
        *_common("communication"),
        _p(
            "hs_communication_channel_type",
            "Channel type",
            "enumeration",
            "communication",
            ("SMS", "WHATS_APP", "LINKEDIN_MESSAGE"),
        ),
        _p("hs_communication_body", "Communication body", "string", "communication"),
    ),
    POSTAL_MAIL: (*_common("postal_mail"), _p("hs_postal_mail_body", "Postal mail body", "string", "postal_mail")),
    LEADS: (
        *_record("leadinformation", owner="Lead owner"),
        _p("hs_lead_name", "Lead name", "string", "leadinformation"),
        _p("hs_pipeline", "Lead pipeline", "enumeration", "leadinformation", ("lead-pipeline-id",)),
        _p("hs_pipeline_stage", "Lead stage", "enumeration", "leadinformation", LEAD_STAGES),
    ),
    FEEDBACK_SUBMISSIONS: (
        *_record("feedback_submission_information"),
        _p("hs_survey_type", "Survey type", "enumeration", "feedback_submission_information", ("NPS", "CES", "CSAT")),
        _p("hs_response_value", "Response value", "number", "feedback_submission_information", read_only=True),
        _p("hs_content", "Response", "string", "feedback_submission_information", read_only=True),
    ),
    GOALS: (
        *_record("goal_target_information"),
        _p("hs_goal_name", "Goal name", "string", "goal_target_information"),
        _p("hs_target_amount", "Target", "number", "goal_target_information"),
        _p("hs_start_datetime", "Start date", "datetime", "goal_target_information"),
        _p("hs_end_datetime", "End date", "datetime", "goal_target_information"),
    ),
    DEAL_SPLITS: (
        *_record("deal_split_information"),
        _p("hs_split_percentage", "Split percentage", "number", "deal_split_information"),
        _p("hs_split_amount", "Split amount", "number", "deal_split_information", read_only=True),
    ),
}

# Forms (object type 0-28) are no CRM records one can list, yet the legacy properties API describes them (check).
FORM_PROPERTIES: tuple[PropertyDef, ...] = (
    *_record("form_information"),
    _p("hs_form_name", "Form name", "string", "form_information"),
    _p("hs_form_type", "Form type", "string", "form_information"),
)

BUILTIN_GROUPS: dict[str, tuple[GroupDef, ...]] = {
    CONTACTS: (
        GroupDef("contactinformation", "Contact information", 0),
        GroupDef("sales_properties", "Sales properties", 1),
    ),
    COMPANIES: (GroupDef("companyinformation", "Company information", 0),),
    DEALS: (GroupDef("dealinformation", "Deal information", 0),),
    TASKS: (GroupDef("task", "Task information", 0),),
    EMAILS: (GroupDef("email", "Email information", 0),),
    CALLS: (GroupDef("call", "Call information", 0),),
    MEETINGS: (GroupDef("meeting", "Meeting information", 0),),
    NOTES: (GroupDef("note", "Note information", 0),),
    TICKETS: (GroupDef("ticketinformation", "Ticket information", 0),),
    PRODUCTS: (GroupDef("productinformation", "Product information", 0),),
    LINE_ITEMS: (GroupDef("lineiteminformation", "Line item information", 0),),
    QUOTES: (GroupDef("quoteinformation", "Quote information", 0),),
    COMMUNICATIONS: (GroupDef("communication", "Communication information", 0),),
    POSTAL_MAIL: (GroupDef("postal_mail", "Postal mail information", 0),),
    LEADS: (GroupDef("leadinformation", "Lead information", 0),),
    FEEDBACK_SUBMISSIONS: (GroupDef("feedback_submission_information", "Feedback submission information", 0),),
    GOALS: (GroupDef("goal_target_information", "Goal information", 0),),
    DEAL_SPLITS: (GroupDef("deal_split_information", "Deal split information", 0),),
}

DEFAULT_LIST_PROPERTIES: dict[str, tuple[str, ...]] = {
    CONTACTS: ("email", "firstname", "lastname"),
    COMPANIES: ("name", "domain"),
    DEALS: ("dealname", "amount", "dealstage", "pipeline", "closedate"),
    TASKS: ("hs_timestamp",),
    EMAILS: ("hs_timestamp",),
    CALLS: ("hs_timestamp",),
    MEETINGS: ("hs_timestamp",),
    NOTES: ("hs_timestamp",),
    TICKETS: ("subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority", "hs_ticket_category"),
    PRODUCTS: ("name", "description", "price"),
    LINE_ITEMS: ("name", "price", "quantity", "amount"),
    QUOTES: ("hs_title", "hs_expiration_date", "hs_status"),
    COMMUNICATIONS: ("hs_timestamp",),
    POSTAL_MAIL: ("hs_timestamp",),
    LEADS: ("hs_lead_name", "hs_pipeline", "hs_pipeline_stage"),
    FEEDBACK_SUBMISSIONS: ("hs_survey_type", "hs_response_value"),
    GOALS: ("hs_goal_name", "hs_target_amount"),
    DEAL_SPLITS: ("hs_split_percentage",),
}


@dataclass(slots=True)
class PropertyCatalog:
    """Built-in plus created properties and groups of one object type."""

    properties: dict[str, PropertyDef] = field(default_factory=dict)
    groups: dict[str, GroupDef] = field(default_factory=dict)

    @classmethod
    def builtin(cls, object_type: str) -> PropertyCatalog:
        return cls(
            {p.name: p for p in BUILTIN_PROPERTIES[object_type]},
            {g.name: g for g in BUILTIN_GROUPS[object_type]},
        )
