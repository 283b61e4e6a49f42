"""Editing a person, and the street's approval of committee workers' edits (变更审核).

Personas: `committee` works at 桥一居委会 (310101020001) of 五里桥街道; `manager` and `leader` are
its street's centre manager and leader; `frontdesk` reads but does not edit; `inspector` has no
access to resident data; `manager_b` (made here) is the centre manager of 打浦桥街道 (310101021).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from shequ.accounts.models import RoleAssignment, User
from shequ.audit.models import ChangeLog
from shequ.core.errors import ConflictError
from shequ.core.idempotency import FORM_FIELD, new_key
from shequ.notifications.models import OutboxMessage
from shequ.people import changes, services
from shequ.people.choices import ChangeStatus, FieldGroup
from shequ.people.models import ApprovalPolicy, ChangeRequest, Person
from shequ.people.services import PersonData
from shequ.people.tests.test_views import JIAN_YI, QIAO_YI, home, rid
from shequ.places.models import Place

WANG_ID = rid("19500312", 122)
WANG_PHONE = "13912345678"
NEW_ID = rid("19500312", 224)  # same birth date, still a woman
OTHER_ID = rid("19620815", 331)


@pytest.fixture
def wang(personas):
    """王秀英 lives in 桥一 (五里桥街道)."""
    by = personas["admin"]
    _, actual = home(by, QIAO_YI, "长清路100弄", "3", "501")
    return services.register_person(
        by=by,
        data=PersonData(name="王秀英", id_number=WANG_ID, phone=WANG_PHONE),
        household=actual,
        joined_on=dt.date(2010, 5, 1),
    )


@pytest.fixture
def zhao(personas):
    """赵刚 lives in 建一 (打浦桥街道)."""
    by = personas["admin"]
    _, far = home(by, JIAN_YI, "徐家汇路50弄", "1", "101")
    return services.register_person(
        by=by,
        data=PersonData(name="赵刚", id_number=rid("19850707", 351), phone="13700002222"),
        household=far,
    )


@pytest.fixture
def manager_b(personas):
    user = User.objects.create_user(username="manager_b", full_name="钱多多")
    RoleAssignment.objects.create(user=user, role="centre_manager", place=Place.objects.get(code="310101021"))
    return user


def ask(by, person, group=FieldGroup.IDENTITY, reason="居民持新证件来办理", **values):
    person.refresh_from_db()
    return changes.request_change(
        by=by, person=person, group=group, values=values, reason=reason, expected_version=person.version
    )


def fresh(person: Person) -> Person:
    return Person.objects.get(pk=person.pk)


# ------------------------------------------------------------------------------ applying at once


def test_street_editor_applies_at_once_and_name_keys_follow(wang, personas):
    change = ask(personas["manager"], wang, name="汪秀英")
    assert change.status == ChangeStatus.APPLIED and change.decided_at is not None
    now = fresh(wang)
    assert now.name == "汪秀英" and now.version == wang.version + 1
    assert (now.name_pinyin, now.name_initials) == ("wangxiuying", "wxy")
    assert change.before["name"] == "王秀英" and change.after == {"name": "汪秀英"}
    log = ChangeLog.objects.filter(object_type="people.person", object_id=str(wang.pk)).first()
    assert log.actor_name == "李秀英" and log.before["name"] == "王秀英" and log.after["name"] == "汪秀英"
    assert ChangeLog.objects.filter(object_type="people.changerequest", object_id=str(change.pk)).exists()


def test_committee_phone_change_needs_no_approval_by_default(wang, personas):
    change = ask(personas["committee"], wang, group=FieldGroup.CONTACT, phone="13600009999")
    assert change.status == ChangeStatus.APPLIED
    assert fresh(wang).phone == "13600009999"
    # the request keeps the numbers masked only: the person's history has them
    assert change.before == {"phone": "139****5678"} and change.after == {"phone": "136****9999"}


def test_direct_id_change_derives_and_checks_the_birth_date(wang, personas):
    with pytest.raises(ValidationError) as err:
        ask(personas["manager"], wang, id_number=rid("19510101", 122), birth_date=dt.date(1950, 3, 12))
    assert "出生日期" in err.value.message_dict["birth_date"][0]
    ask(personas["manager"], wang, id_number=rid("19510101", 122), birth_date=None)
    assert fresh(wang).birth_date == dt.date(1951, 1, 1)


# ------------------------------------------------------------------------------ waiting for the street


def test_committee_identity_change_waits_for_the_street(wang, personas):
    change = ask(personas["committee"], wang, name="汪秀英")
    assert change.status == ChangeStatus.PENDING and change.place_code == QIAO_YI
    assert fresh(wang).name == "王秀英" and fresh(wang).version == wang.version
    with pytest.raises(ValidationError) as err:
        ask(personas["committee"], wang, name="王秀瑛")
    assert "已有一项待街道审核" in err.value.message_dict["field_group"][0]
    # another group is independent
    assert ask(personas["committee"], wang, group=FieldGroup.CONTACT, phone="13600009999").status == "applied"


def test_requests_are_validated_whole(wang, personas):
    committee = personas["committee"]
    with pytest.raises(ValidationError) as err:
        ask(committee, wang, id_number=WANG_ID[:-1] + ("0" if WANG_ID[-1] != "0" else "1"))
    assert "校验位" in err.value.message_dict["id_number"][0]
    with pytest.raises(ValidationError) as err:
        ask(committee, wang, gender="M")
    assert "性别" in err.value.message_dict["gender"][0]
    with pytest.raises(ValidationError) as err:
        ask(committee, wang, group=FieldGroup.RESIDENCE, residence_type="incoming")
    assert "居住证号码" in err.value.message_dict["residence_permit_number"][0]
    with pytest.raises(ValidationError) as err:
        ask(committee, wang, name="王秀英")
    assert "没有修改" in err.value.messages[0]
    with pytest.raises(ValidationError) as err:
        ask(committee, wang, name="汪秀英", reason="  ")
    assert "变更原因" in err.value.message_dict["reason"][0]
    with pytest.raises(ValidationError) as err:
        ask(committee, wang, group=FieldGroup.CONTACT, name="汪秀英")  # not a field of that group
    assert "姓名" in err.value.message_dict["field_group"][0]
    assert not ChangeRequest.objects.exists()


def test_duplicate_document_is_refused_at_request(wang, zhao, personas):
    with pytest.raises(ValidationError) as err:
        ask(personas["manager"], wang, id_number=zhao.id_number, birth_date=None, gender="")
    message = err.value.message_dict["id_number"][0]
    assert "已登记" in message and "赵*" in message
    assert fresh(wang).id_number == WANG_ID


def test_approve_applies_logs_and_notifies(wang, personas):
    committee, manager = personas["committee"], personas["manager"]
    change = ask(committee, wang, name="汪秀英", id_number=NEW_ID)
    assert change.after == {"name": "汪秀英", "id_number": NEW_ID}  # clear while pending: needed to apply
    decided = changes.approve(by=manager, change=change, note="核对无误")
    assert decided.status == ChangeStatus.APPROVED and decided.decided_by == manager
    assert decided.decision_note == "核对无误"
    now = fresh(wang)
    assert now.name == "汪秀英" and now.id_number == NEW_ID and now.version == wang.version + 1
    assert now.name_initials == "wxy"
    # the person's change is logged by the approver, without the number in clear
    log = ChangeLog.objects.filter(object_type="people.person", object_id=str(wang.pk)).first()
    assert (
        log.actor_name == "李秀英"
        and NEW_ID not in str(log.after)
        and log.after["id_number_end"] == NEW_ID[-4:]
    )
    assert ChangeLog.objects.filter(object_type="people.changerequest", object_id=str(change.pk)).count() == 2
    # decided: the numbers are kept masked only
    assert decided.after["id_number"] == NEW_ID[:6] + "********" + NEW_ID[-4:]
    assert WANG_ID not in str(decided.before)
    message = OutboxMessage.objects.get(recipient_user=committee, template="people.change_decided")
    assert message.channel == "inapp" and "已通过" in message.body and "汪**" in message.body
    assert message.context["link"] == reverse("people:change", args=[change.pk])


def test_reject_needs_a_note_and_changes_nothing(wang, personas):
    change = ask(personas["committee"], wang, name="汪秀英")
    with pytest.raises(ValidationError) as err:
        changes.reject(by=personas["manager"], change=change, note=" ")
    assert "退回原因" in err.value.message_dict["decision_note"][0]
    decided = changes.reject(by=personas["leader"], change=change, note="请附户口本复印件")
    assert decided.status == ChangeStatus.REJECTED and decided.decided_by == personas["leader"]
    assert fresh(wang).name == "王秀英"
    body = OutboxMessage.objects.get(recipient_user=personas["committee"]).body
    assert "已退回" in body and "请附户口本复印件" in body
    # a new request for the group may follow
    assert ask(personas["committee"], wang, name="汪秀英").status == ChangeStatus.PENDING


def test_withdraw_by_the_requester_only(wang, personas):
    change = ask(personas["committee"], wang, name="汪秀英")
    with pytest.raises(PermissionDenied):
        changes.withdraw(by=personas["manager"], change=change)
    decided = changes.withdraw(by=personas["committee"], change=change)
    assert decided.status == ChangeStatus.WITHDRAWN and decided.decided_by is None
    with pytest.raises(ConflictError) as err:
        changes.approve(by=personas["manager"], change=change)
    assert "撤回" in err.value.messages[0]
    assert fresh(wang).name == "王秀英" and not OutboxMessage.objects.exists()


def test_stale_version_names_who_changed_it(wang, personas):
    seen = fresh(wang).version
    ask(personas["manager"], wang, group=FieldGroup.CONTACT, phone="13600009999")
    with pytest.raises(ConflictError) as err:
        changes.request_change(
            by=personas["committee"],
            person=wang,
            group=FieldGroup.IDENTITY,
            values={"name": "汪秀英"},
            reason="更正",
            expected_version=seen,
        )
    assert "李秀英" in err.value.messages[0] and "已被" in err.value.messages[0]
    assert not ChangeRequest.objects.filter(status="pending").exists()


def test_approval_refused_when_the_values_changed_meanwhile(wang, personas):
    change = ask(personas["committee"], wang, name="汪秀英")
    ask(personas["manager"], wang, name="王秀瑛")  # the street corrects the name itself
    with pytest.raises(ConflictError) as err:
        changes.approve(by=personas["manager"], change=change)
    assert "已被" in err.value.messages[0] and "退回" in err.value.messages[0]
    assert fresh(wang).name == "王秀瑛"
    assert fresh(wang).change_requests.get(pk=change.pk).status == ChangeStatus.PENDING
    changes.reject(by=personas["manager"], change=change, note="已由街道更正")


def test_approval_rechecks_for_a_duplicate(wang, personas):
    change = ask(personas["committee"], wang, id_number=NEW_ID)
    services.register_person(by=personas["admin"], data=PersonData(name="冒名", id_number=NEW_ID))
    with pytest.raises(ValidationError) as err:
        changes.approve(by=personas["manager"], change=change)
    assert "已登记" in err.value.message_dict["id_number"][0]
    assert fresh(wang).id_number == WANG_ID
    assert ChangeRequest.objects.get(pk=change.pk).status == ChangeStatus.PENDING


def test_deciding_twice_applies_once(wang, personas):
    change = ask(personas["committee"], wang, name="汪秀英")
    changes.approve(by=personas["manager"], change=change)
    version = fresh(wang).version
    with pytest.raises(ConflictError) as err:
        changes.approve(by=personas["leader"], change=change)
    assert "李秀英" in err.value.messages[0] and "已通过" in err.value.messages[0]
    with pytest.raises(ConflictError):
        changes.reject(by=personas["leader"], change=change, note="不同意")
    assert fresh(wang).version == version
    assert ChangeRequest.objects.get(pk=change.pk).decided_by == personas["manager"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real parallel approvals need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_one_wins(wang, personas):
    import threading

    from django.db import connections

    change = ask(personas["committee"], wang, name="汪秀英")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approver(username: str) -> None:
        try:
            barrier.wait()
            changes.approve(by=personas[username], change=change)
            outcomes.append("ok")
        except ConflictError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approver, args=(name,)) for name in ("manager", "leader")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and len(outcomes) == 2
    assert "已通过" in next(o for o in outcomes if o != "ok")
    assert fresh(wang).version == wang.version + 1


def test_only_the_persons_street_decides(wang, personas, manager_b):
    change = ask(personas["committee"], wang, name="汪秀英")
    for user in (manager_b, personas["frontdesk"], personas["committee"]):
        with pytest.raises(PermissionDenied):
            changes.approve(by=user, change=change)
    assert changes.may_approve(personas["district_leader"], QIAO_YI)
    with pytest.raises(PermissionDenied):
        ask(manager_b, wang, name="汪秀英")  # may not change a person of another street


def test_policy_switch_changes_the_outcome(wang, personas, manager_b):
    committee, manager = personas["committee"], personas["manager"]
    assert changes.requires_approval(committee, wang, FieldGroup.IDENTITY)
    assert not changes.requires_approval(manager, wang, FieldGroup.IDENTITY)
    changes.set_policy(by=manager, street_code="310101020", group=FieldGroup.CONTACT, requires_approval=True)
    changes.set_policy(
        by=manager, street_code="310101020", group=FieldGroup.IDENTITY, requires_approval=False
    )
    assert ask(committee, wang, group=FieldGroup.CONTACT, phone="13600009999").status == "pending"
    assert ask(committee, wang, name="汪秀英").status == "applied"
    log = ChangeLog.objects.filter(object_type="people.approvalpolicy").order_by("id")
    assert [(r.before["requires_approval"], r.after["requires_approval"]) for r in log] == [
        (False, True),
        (True, False),
    ]
    # setting the same value again writes nothing
    changes.set_policy(by=manager, street_code="310101020", group=FieldGroup.CONTACT, requires_approval=True)
    assert log.count() == 2
    # another street's policy is its own
    assert changes.policy_for("310101021")[FieldGroup.IDENTITY] is True
    for user in (committee, manager_b, personas["frontdesk"]):
        with pytest.raises(PermissionDenied):
            changes.set_policy(
                by=user, street_code="310101020", group=FieldGroup.IDENTITY, requires_approval=True
            )


# ------------------------------------------------------------------------------ pages


def edit_data(person: Person, group: str, reason: str = "居民来办理", **fields: str) -> dict[str, str]:
    data = {"group": group, f"{group}-version": str(person.version), f"{group}-reason": reason}
    data.update({f"{group}-{name}": value for name, value in fields.items()})
    data[FORM_FIELD] = new_key()
    return data


def identity(person: Person, **fields: str) -> dict[str, str]:
    base = {
        "name": person.name,
        "id_type": person.id_type,
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat(),
    }
    return edit_data(person, "identity", **{**base, **fields})


def test_edit_page_masks_numbers_and_says_what_is_reviewed(wang, client_as):
    page = client_as("committee").get(reverse("people:edit", args=[wang.pk])).content.decode()
    assert WANG_ID not in page and WANG_PHONE not in page
    assert WANG_ID[:6] + "********" + WANG_ID[-4:] in page and "139****5678" in page
    assert page.count("提交后需街道审核") == 2 and page.count("保存后立即生效") == 1
    assert f'name="identity-version" value="{wang.version}"' in page
    manager_page = client_as("manager").get(reverse("people:edit", args=[wang.pk])).content.decode()
    assert "提交后需街道审核" not in manager_page


def test_edit_page_access(wang, zhao, client_as):
    url = reverse("people:edit", args=[wang.pk])
    assert client_as("frontdesk").get(url).status_code == 403
    assert client_as("inspector").get(url).status_code == 403
    assert client_as("committee").get(reverse("people:edit", args=[zhao.pk])).status_code == 404
    assert client_as("frontdesk_b").get(url).status_code == 403


def test_committee_edit_through_the_page_waits_and_shows_on_the_person(wang, client_as):
    client = client_as("committee")
    url = reverse("people:edit", args=[wang.pk])
    response = client.post(url, identity(wang, name="汪秀英", id_number=NEW_ID))
    assert response.status_code == 302 and response["Location"] == reverse("people:person", args=[wang.pk])
    change = ChangeRequest.objects.get()
    assert change.status == "pending" and change.after == {"name": "汪秀英", "id_number": NEW_ID}
    assert fresh(wang).name == "王秀英"
    person_page = client.get(reverse("people:person", args=[wang.pk])).content.decode()
    assert "已提交街道审核" in person_page and "待街道审核的变更申请" in person_page
    assert reverse("people:change", args=[change.pk]) in person_page
    assert reverse("people:edit", args=[wang.pk]) in person_page
    # the edit page now points at the pending request instead of offering the identity form
    page = client.get(url).content.decode()
    assert 'name="identity-name"' not in page and reverse("people:change", args=[change.pk]) in page


def test_edit_button_only_for_those_who_may_change(wang, zhao, client_as):
    edit = reverse("people:edit", args=[wang.pk])
    for persona, shown in (("committee", True), ("manager", True), ("admin", True), ("frontdesk", False)):
        page = client_as(persona).get(reverse("people:person", args=[wang.pk])).content.decode()
        assert (edit in page) is shown, persona
        assert page.count(edit) <= 1
    page = client_as("frontdesk_b").get(reverse("people:person", args=[zhao.pk])).content.decode()
    assert reverse("people:edit", args=[zhao.pk]) not in page


def test_page_errors_are_shown_on_the_form(wang, client_as):
    client = client_as("committee")
    url = reverse("people:edit", args=[wang.pk])
    bad = client.post(url, identity(wang, birth_date="1950-03-13", name="汪秀英"))
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "不一致" in page and WANG_ID not in page
    missing = client.post(url, identity(wang, name="汪秀英", reason=""))
    assert missing.status_code == 400 and "请填写变更原因" in missing.content.decode()
    switched = client.post(url, identity(wang, id_type="passport"))
    assert switched.status_code == 400 and "请填写新的证件号码" in switched.content.decode()
    assert not ChangeRequest.objects.exists()


def test_stale_form_is_a_conflict_that_keeps_the_input(wang, client_as):
    client = client_as("committee")
    url = reverse("people:edit", args=[wang.pk])
    old = fresh(wang)
    client_as("manager").post(url, edit_data(old, "contact", phone="13600009999"))
    client = client_as("committee")
    response = client.post(url, identity(old, name="汪秀英"))
    assert response.status_code == 409
    page = response.content.decode()
    assert "李秀英" in page and 'value="汪秀英"' in page
    assert f'name="identity-version" value="{fresh(wang).version}"' in page
    assert not ChangeRequest.objects.filter(status="pending").exists()


def test_double_submit_makes_one_request(wang, client_as):
    client = client_as("committee")
    data = edit_data(wang, "contact", phone="13600009999")
    first = client.post(reverse("people:edit", args=[wang.pk]), data)
    second = client.post(reverse("people:edit", args=[wang.pk]), data)
    assert first.status_code == second.status_code == 302
    assert ChangeRequest.objects.count() == 1 and fresh(wang).version == wang.version + 1


def test_queue_for_approvers_and_requesters(wang, zhao, personas, client_as, manager_b):
    mine = ask(personas["committee"], wang, name="汪秀英")
    ask(personas["committee"], wang, group=FieldGroup.CONTACT, phone="13600009999")  # applied
    other = ask(personas["admin"], zhao, reason="测试", name="赵钢")  # applied, another street
    page = client_as("manager").get(reverse("people:changes")).content.decode()
    assert "王**" in page and "王秀英" not in page and "桥一居委会" in page and "赵敏" in page
    assert reverse("people:change", args=[mine.pk]) in page
    assert "联系方式" not in page  # applied ones are not waiting
    everything = client_as("manager").get(reverse("people:changes"), {"status": ""}).content.decode()
    assert "联系方式" in everything and reverse("people:change", args=[other.pk]) not in everything
    assert "赵*" not in client_as("leader").get(reverse("people:changes"), {"status": ""}).content.decode()
    assert client_as("frontdesk_b").get(reverse("people:changes")).status_code == 403
    own = client_as("committee").get(reverse("people:changes")).content.decode()
    assert "我提交的变更申请" in own and "联系方式" in own and "待审核" in own and "已生效" in own
    assert client_as("inspector").get(reverse("people:changes")).status_code == 403
    assert client_as("frontdesk").get(reverse("people:changes")).status_code == 403


def test_detail_masks_numbers_and_approves_through_the_page(wang, personas, client_as):
    start = fresh(wang).version
    change = ask(personas["committee"], wang, group=FieldGroup.CONTACT, phone="13600009999")
    assert change.status == "applied"
    change = ask(personas["committee"], wang, id_number=NEW_ID)
    url = reverse("people:change", args=[change.pk])
    page = client_as("manager").get(url).content.decode()
    assert NEW_ID not in page and WANG_ID not in page
    assert NEW_ID[:6] + "********" + NEW_ID[-4:] in page and WANG_ID[:6] + "********" + WANG_ID[-4:] in page
    assert 'value="approve"' in page and 'value="withdraw"' not in page
    assert 'value="withdraw"' in client_as("committee").get(url).content.decode()
    assert 'value="approve"' not in client_as("committee").get(url).content.decode()
    client = client_as("manager")
    data = {"action": "approve", "note": "", FORM_FIELD: new_key()}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data, follow=True).content.decode()  # a double click: replayed, no error
    assert "已审核通过" in again and "已由" not in again
    assert fresh(wang).id_number == NEW_ID and fresh(wang).version == start + 2
    late = client_as("leader").post(url, {"action": "approve", FORM_FIELD: new_key()}, follow=True)
    assert "已由 李秀英" in late.content.decode()


def test_reject_and_withdraw_through_the_page(wang, personas, client_as):
    change = ask(personas["committee"], wang, name="汪秀英")
    url = reverse("people:change", args=[change.pk])
    manager = client_as("manager")
    page = manager.post(url, {"action": "reject", "note": "", FORM_FIELD: new_key()}, follow=True)
    assert "请填写退回原因" in page.content.decode()
    manager.post(url, {"action": "reject", "note": "证件不符", FORM_FIELD: new_key()})
    assert ChangeRequest.objects.get(pk=change.pk).status == "rejected"
    second = ask(personas["committee"], wang, name="汪秀英")
    committee = client_as("committee")
    assert (
        committee.post(reverse("people:change", args=[second.pk]), {"action": "approve"}).status_code == 403
    )
    committee.post(reverse("people:change", args=[second.pk]), {"action": "withdraw", FORM_FIELD: new_key()})
    assert ChangeRequest.objects.get(pk=second.pk).status == "withdrawn"


def test_detail_scoping(wang, personas, client_as, client, manager_b):
    change = ask(personas["committee"], wang, name="汪秀英")
    url = reverse("people:change", args=[change.pk])
    assert client_as("frontdesk").get(url).status_code == 200  # readers see it, without the buttons
    assert 'value="approve"' not in client_as("frontdesk").get(url).content.decode()
    assert client_as("inspector").get(url).status_code == 403
    assert client_as("frontdesk_b").get(url).status_code == 404
    client.force_login(manager_b)
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "approve", FORM_FIELD: new_key()}).status_code == 404
    assert ChangeRequest.objects.get(pk=change.pk).status == "pending"
    assert client_as("committee").get(reverse("people:change", args=[999999])).status_code == 404


def test_policy_page(personas, client_as, client, manager_b):
    url = reverse("people:approval_policy")
    page = client_as("manager").get(url).content.decode()
    assert "五里桥街道" in page and "打浦桥街道" not in page
    assert re.search(r'name="identity" checked', page) and not re.search(r'name="contact" checked', page)
    response = client_as("manager").post(
        url, {"street": "310101020", "identity": "on", "contact": "on", FORM_FIELD: new_key()}
    )
    assert response.status_code == 302
    assert changes.policy_for("310101020") == {"identity": True, "contact": True, "residence": False}
    assert ApprovalPolicy.objects.filter(street_code="310101020").count() == 3
    assert client_as("manager").get(url, {"street": "310101021"}).status_code == 404
    assert client_as("committee").get(url).status_code == 403
    assert client_as("inspector").get(url).status_code == 403
    both = client_as("district_leader").get(url).content.decode()
    assert "五里桥街道" in both and "打浦桥街道" in both
    client.force_login(manager_b)
    assert "打浦桥街道" in client.get(url).content.decode()
    assert client.post(url, {"street": "310101020", "identity": "on"}).status_code == 404


# ------------------------------------------------------------------------------ as it was on date D


def test_approved_change_shows_in_the_history_by_date(personas, client_as):
    by = personas["admin"]
    with time_machine.travel(dt.datetime(2022, 3, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        _, actual = home(by, QIAO_YI, "长清路100弄", "9", "101")
        person = services.register_person(
            by=by,
            data=PersonData(name="周芳", id_number=OTHER_ID, phone="13511112222"),
            household=actual,
            joined_on=dt.date(2022, 3, 1),
        )
    with time_machine.travel(dt.datetime(2023, 5, 8, 2, 0, tzinfo=dt.UTC), tick=False):
        change = ask(personas["committee"], person, name="周芳芳")
    with time_machine.travel(dt.datetime(2023, 5, 10, 2, 0, tzinfo=dt.UTC), tick=False):
        changes.approve(by=personas["manager"], change=change)
    client = client_as("committee")
    url = reverse("people:person", args=[person.pk])

    def basic(day: str) -> str:
        page = client.get(url, {"as_of": day}).content.decode()
        return page[page.index("基本信息") : page.index("居住地居委会")]

    assert "周芳芳" not in basic("2023-05-09") and "周芳" in basic("2023-05-09")
    assert "周芳芳" in basic("2023-05-10")
    assert "周芳芳" in client.get(url).content.decode()


def test_queue_query_count_is_bounded(personas, client_as, django_assert_max_num_queries):
    by = personas["admin"]
    for n in range(6):
        _, actual = home(by, QIAO_YI, "长清路200弄", str(n + 1), "101")
        person = services.register_person(
            by=by, data=PersonData(name=f"测试{n}", id_number=rid("19700101", 100 + 2 * n)), household=actual
        )
        ask(personas["committee"], person, name=f"测试人{n}")
    for persona in ("manager", "committee"):
        client = client_as(persona)
        with django_assert_max_num_queries(8):
            page = client.get(reverse("people:changes")).content.decode()
        assert page.count(reverse("people:change", args=[ChangeRequest.objects.first().pk])) == 1
        assert "测**" in page
