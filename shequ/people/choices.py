from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAO = "hk_macao", _("港澳居民来往内地通行证")
    TAIWAN = "taiwan", _("台湾居民来往大陆通行证")
    FOREIGN_PR = "foreign_pr", _("外国人永久居留身份证")


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("户籍人口")
    INCOMING = "incoming", _("来沪人员")
    FOREIGN = "foreign", _("境外人员")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已死亡")
    CANCELLED = "cancelled", _("已注销")


class HouseKind(models.TextChoices):
    OWNED = "owned", _("自有住房")
    RENTED = "rented", _("租赁住房")
    PUBLIC = "public", _("公有住房")
    COLLECTIVE = "collective", _("集体宿舍")


class HouseholdKind(models.TextChoices):
    REGISTERED = "registered", _("户籍户")
    ACTUAL = "actual", _("实住户")


class Relation(models.TextChoices):
    """Relation to the head of the household (与户主关系), as household registers write it."""

    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    CHILD_IN_LAW = "child_in_law", _("儿媳/女婿")
    OTHER_RELATIVE = "relative", _("其他亲属")
    NON_RELATIVE = "non_relative", _("非亲属")


class Tag(models.TextChoices):
    """Maintained tags; each row carries its source and dates (seed 004: 一次采集、多方使用)."""

    DISABILITY = "disability", _("残疾")
    MINIMUM_INCOME = "minimum_income", _("低保")
    SPECIAL_CARE = "special_care", _("优抚对象")
    THREE_NOS = "three_nos", _("三无人员")
    FIVE_GUARANTEES = "five_guarantees", _("五保户")
    KEY_ASSISTANCE = "key_assistance", _("重点帮扶")
    VETERAN = "veteran", _("退役军人")


class ComputedTag(models.TextChoices):
    """Derived from the birth date and the household, never typed in."""

    AGE_60 = "age_60", _("60 岁以上")
    AGE_70 = "age_70", _("70 岁以上")
    AGE_80 = "age_80", _("80 岁以上")
    AGE_90 = "age_90", _("90 岁以上")
    LIVES_ALONE = "lives_alone", _("独居老人")
    ELDERS_ONLY = "elders_only", _("纯老家庭")
    SEPARATED = "separated", _("人户分离")


DISABILITY_LEVELS = [(1, _("一级")), (2, _("二级")), (3, _("三级")), (4, _("四级"))]


class FieldGroup(models.TextChoices):
    """Groups of a person's fields whose edits a street may require to be approved (变更审核)."""

    IDENTITY = "identity", _("身份信息（姓名、证件、性别、出生日期）")
    CONTACT = "contact", _("联系方式（电话）")
    RESIDENCE = "residence", _("居住信息（人口类型、居住证、户籍地址）")


# Which field of Person lies in which group; a field not listed cannot be edited by a change.
FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    FieldGroup.IDENTITY: ("name", "id_type", "id_number", "gender", "birth_date"),
    FieldGroup.CONTACT: ("phone",),
    FieldGroup.RESIDENCE: (
        "residence_type",
        "residence_permit_number",
        "residence_permit_expiry",
        "registered_address",
    ),
}
# Without a street's own policy: identity and residence need approval, a phone number does not.
DEFAULT_APPROVAL: dict[str, bool] = {
    FieldGroup.IDENTITY: True,
    FieldGroup.CONTACT: False,
    FieldGroup.RESIDENCE: True,
}


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已退回")
    WITHDRAWN = "withdrawn", _("已撤回")
    APPLIED = "applied", _("已生效")  # needed no approval


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    FAILED = "failed", _("有错误，未导入")
    DONE = "done", _("已完成")
