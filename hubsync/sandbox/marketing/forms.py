"""Forms (marketing v3) and their submissions (legacy v1, newest first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses
from hubsync.sandbox.crm.answers import paging
from hubsync.sandbox.marketing.rows import row_offset, row_uuid
from hubsync.sandbox.responses import Reply, iso

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request

SUBMISSIONS_MAX = 50
FORMS_MAX = 100  # (check) HubSpot does not document a maximum for the forms list


def _form_json(form: Any) -> dict[str, Any]:
    # The SDK 12 model for a form field is a flattened oneOf that only accepts fieldType "payment_link_radio"
    # with the attributes of every field kind, so no real field definition deserializes: fields are left out.
    return {
        "id": form.guid,
        "name": form.name,
        "formType": "hubspot",
        "createdAt": iso(form.created),
        "updatedAt": iso(form.updated),
        "archived": form.archived,
        "fieldGroups": [],
        "configuration": {
            "language": "de",
            "cloneable": True,
            "editable": True,
            "archivable": True,
            "recaptchaEnabled": False,
            "notifyContactOwner": False,
            "notifyRecipients": [],
            "createNewContactForNewEmail": False,
            "prePopulateKnownValues": True,
            "allowLinkToResetKnownValues": False,
            "lifecycleStages": [],
            "postSubmitAction": {"type": "thank_you", "value": "Vielen Dank!"},
        },
        "displayOptions": {
            "renderRawHtml": False,
            "theme": "default_style",
            "submitButtonText": "Absenden",
            "cssClass": "",
            "style": {
                "fontFamily": "arial, helvetica, sans-serif",
                "backgroundWidth": "100%",
                "labelTextColor": "#33475b",
                "labelTextSize": "14px",
                "helpTextColor": "#7C98B6",
                "helpTextSize": "11px",
                "legalConsentTextColor": "#33475b",
                "legalConsentTextSize": "14px",
                "submitColor": "#ff7a59",
                "submitAlignment": "left",
                "submitFontColor": "#ffffff",
                "submitSize": "12px",
            },
        },
        "legalConsentOptions": {
            "type": "implicit_consent_to_process",
            "subscriptionTypeIds": [],
            "lawfulBasis": "lead",
            "privacyText": "Wir verwenden Ihre Angaben, um Sie zu kontaktieren.",
            "communicationsCheckboxes": [],
        },
    }


def list_forms(portal: Portal, req: Request) -> Reply:
    limit = req.q_int("limit", 20, FORMS_MAX)
    offset = row_offset(req, "after")
    archived = req.q_bool("archived")
    with portal.lock:
        forms = [f for f in portal.forms if f.archived == archived]
        page = forms[offset : offset + limit]
        following = str(offset + limit) if offset + limit < len(forms) else None
        return Reply(200, {"results": [_form_json(f) for f in page], **paging(following, req.path)})


def get_form(portal: Portal, req: Request) -> Reply:
    with portal.lock:
        form = next((f for f in portal.forms if f.guid == req.params["formId"]), None)
        if form is None:
            raise responses.not_found()
        return Reply(200, _form_json(form))


def form_submissions(portal: Portal, req: Request) -> Reply:
    limit = req.q_int("limit", 20, SUBMISSIONS_MAX)
    offset = row_offset(req, "after")
    with portal.lock:
        form = next((f for f in portal.forms if f.guid == req.params["formGuid"]), None)
        if form is None:
            raise responses.not_found(f"Form {req.params['formGuid']} was not found")
        index = portal.forms.index(form)
        log = portal.form_submissions
        ts, ids, forms, contacts, emails, pages = log.data
        # Newest first, as HubSpot lists submissions.
        selected = [i for i in range(len(log) - 1, -1, -1) if forms[i] == index]
        page = selected[offset : offset + limit]
        results = []
        for i in page:
            contact = portal.stores["contacts"].by_id.get(portal.resolve_contact(contacts[i]))
            values = [{"name": "email", "value": portal.strings[emails[i]], "objectTypeId": "0-1"}]
            if contact is not None:
                values += [
                    {"name": n, "value": contact.props[n], "objectTypeId": "0-1"}
                    for n in ("firstname", "lastname", "company")
                    if n in contact.props
                ]
            results.append(
                {
                    "conversionId": row_uuid(portal, ids[i]),
                    "submittedAt": ts[i],
                    "values": values,
                    "pageUrl": portal.strings[pages[i]],
                }
            )
        following = str(offset + limit) if offset + limit < len(selected) else None
        return Reply(200, {"results": results, **paging(following, req.path)})
