"""Vocabulary of the acceptance centre."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MatterCategory(models.TextChoices):
    EMPLOYMENT = "employment", _("就业")
    SOCIAL_SECURITY = "social_security", _("社会保障")
    CIVIL_ASSISTANCE = "civil_assistance", _("民政救助")
    HEALTH = "health", _("卫生健康")
    DISABILITY = "disability", _("残疾人")
    MEDICAL_INSURANCE = "medical_insurance", _("医保")
    RESIDENCE = "residence", _("户籍与居住证")
    ELDERLY = "elderly", _("老龄")
    FAMILY = "family", _("婚育与家庭")
    HOUSING = "housing", _("住房保障")
    VETERANS = "veterans", _("退役军人")
    OTHER = "other", _("其他")


class ItemType(models.TextChoices):
    """Types of government-service items (政务服务事项类型)."""

    PERMIT = "permit", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    PAYMENT = "payment", _("行政给付")
    FILING = "filing", _("行政备案")
    OTHER_POWER = "other_power", _("其他行政权力")
    PUBLIC_SERVICE = "public_service", _("公共服务")


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    BOTH = "both", _("原件及复印件")
    ELECTRONIC = "electronic", _("电子材料")


class DeliveryMethod(models.TextChoices):
    WINDOW = "window", _("窗口领取")
    POST = "post", _("邮寄")
    COURIER = "courier", _("快递")
    HOME = "home", _("上门送达")
    ELECTRONIC = "electronic", _("电子送达")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAO = "hk_macao", _("港澳居民来往内地通行证")
    TAIWAN = "taiwan", _("台湾居民来往大陆通行证")
    FOREIGN_PR = "foreign_pr", _("外国人永久居留身份证")
