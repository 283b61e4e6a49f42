"""Attachments of an order: files and photos, checked by content (not by the name a browser
sends), limited in size, and photos re-encoded without EXIF, so a phone's GPS position and
device data never reach the archive (the orientation is applied first, so nothing turns over)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from shequ.audit.services import actor_identity

from .choices import EventKind
from .models import Attachment, WorkOrder
from .permissions import may_handle
from .process import get_process


@dataclass(frozen=True)
class FileType:
    extensions: tuple[str, ...]
    content_type: str
    signatures: tuple[bytes, ...]
    is_photo: bool = False


ALLOWED: tuple[FileType, ...] = (
    FileType((".jpg", ".jpeg"), "image/jpeg", (b"\xff\xd8\xff",), is_photo=True),
    FileType((".png",), "image/png", (b"\x89PNG\r\n\x1a\n",), is_photo=True),
    FileType((".webp",), "image/webp", (b"RIFF",), is_photo=True),
    FileType((".pdf",), "application/pdf", (b"%PDF-",)),
    FileType(
        (".docx",),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    FileType(
        (".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)
    ),
    FileType((".doc",), "application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    FileType((".xls",), "application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
)


def max_bytes() -> int:
    return settings.ATTACHMENT_MAX_MB * 1024 * 1024


def _file_type(name: str, head: bytes) -> FileType:
    suffix = PurePath(name).suffix.lower()
    allowed_names = "、".join(ext for t in ALLOWED for ext in t.extensions)
    for file_type in ALLOWED:
        if suffix in file_type.extensions:
            if not any(head.startswith(sig) for sig in file_type.signatures) or (
                file_type.content_type == "image/webp" and head[8:12] != b"WEBP"
            ):
                raise ValidationError(
                    {"file": [_("文件“%(name)s”的内容与扩展名不符，可能已损坏或被改名。") % {"name": name}]}
                )
            return file_type
    raise ValidationError(
        {
            "file": [
                _("不支持的文件类型“%(suffix)s”，只能上传：%(allowed)s。")
                % {"suffix": suffix or "?", "allowed": allowed_names}
            ]
        }
    )


def _strip_exif(data: bytes, file_type: FileType) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[file_type.content_type]
            if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            # No `exif=` argument: the re-encoded image carries no EXIF block at all.
            upright.save(out, format=fmt, quality=90)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValidationError({"file": [_("图片无法读取，请重新拍摄或上传。")]}) from exc


def check_photo(upload: UploadedFile) -> None:
    """Refuse anything but a readable photo (a report's site photo), before anything is written."""
    name = PurePath(upload.name or "file").name[:150]
    upload.seek(0)
    data = upload.read(max_bytes() + 1)
    upload.seek(0)
    if len(data) > max_bytes():
        raise ValidationError(
            {
                "photo": [
                    _("文件“%(name)s”超过 %(limit)d MB 的上限。")
                    % {"name": name, "limit": max_bytes() // 2**20}
                ]
            }
        )
    suffix = PurePath(name).suffix.lower()
    photo_types = [t for t in ALLOWED if t.is_photo]
    file_type = next((t for t in photo_types if suffix in t.extensions), None)
    if file_type is None or not data:
        raise ValidationError(
            {"photo": [_("“%(name)s”不是图片，请上传 JPG、PNG 或 WEBP 照片。") % {"name": name}]}
        )
    try:
        _file_type(name, data[:16])
        _strip_exif(data, file_type)
    except ValidationError as exc:
        raise ValidationError(
            {"photo": [_("“%(name)s”不是有效的图片，请重新拍摄或上传。") % {"name": name}]}
        ) from exc


def attach(
    *, order: WorkOrder, by: Any, upload: UploadedFile, label: str = "", check_permission: bool = True
) -> Attachment:
    """Store `upload` on `order` after checking who uploads, the type, the size; strip photo EXIF.
    `check_permission=False` is for the creator of a new order (a resident's report photo)."""
    process = get_process(order.kind)
    if check_permission and not may_handle(by, order, process.all_roles()):
        raise PermissionDenied(_("您没有为此工单上传附件的权限。"))
    name = PurePath(upload.name or "file").name[:150]
    if upload.size is not None and upload.size > max_bytes():
        raise ValidationError(
            {
                "file": [
                    _("文件“%(name)s”超过 %(limit)d MB 的上限。")
                    % {"name": name, "limit": max_bytes() // 2**20}
                ]
            }
        )
    data = upload.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise ValidationError(
            {
                "file": [
                    _("文件“%(name)s”超过 %(limit)d MB 的上限。")
                    % {"name": name, "limit": max_bytes() // 2**20}
                ]
            }
        )
    if not data:
        raise ValidationError({"file": [_("文件“%(name)s”是空的。") % {"name": name}]})
    file_type = _file_type(name, data[:16])
    if file_type.is_photo:
        data = _strip_exif(data, file_type)
    digest = hashlib.sha256(data).hexdigest()
    existing = Attachment.objects.filter(order=order, sha256=digest).first()
    if existing is not None:
        return existing  # the same file again (a retry, a double click): keep the first
    from .services import record_order_event

    actor_id, actor_name = actor_identity(by)
    try:
        with transaction.atomic():
            attachment = Attachment(
                order=order,
                original_name=name,
                content_type=file_type.content_type,
                size=len(data),
                sha256=digest,
                is_photo=file_type.is_photo,
                step=order.step,
                label=label[:100],
                uploaded_by_id=actor_id,
                uploaded_by_name=actor_name,
            )
            attachment.file.save(name, ContentFile(data), save=False)
            attachment.save()
            record_order_event(order, EventKind.ATTACHED, by, attachment_id=attachment.pk, name=name)
    except IntegrityError:
        # The same file from two requests at once: the other one won.
        attachment.file.delete(save=False)
        return Attachment.objects.get(order=order, sha256=digest)
    return attachment
