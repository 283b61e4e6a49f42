from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from shequ.api import api

admin.site.site_header = _("社区综合服务平台 · 管理后台")
admin.site.site_title = _("社区平台管理")
admin.site.index_title = _("基础数据管理")

urlpatterns = [
    path("", include("shequ.core.urls")),
    path("accounts/", include("shequ.accounts.urls")),
    path("places/", include("shequ.places.urls")),
    path("audit/", include("shequ.audit.urls")),
    path("worktime/", include("shequ.worktime.urls")),
    path("notifications/", include("shequ.notifications.urls")),
    path("workorders/", include("shequ.workorders.urls")),
    path("affairs/", include("shequ.affairs.urls")),
    path("affairs/catalogue/", include("shequ.affairs.catalogue_urls")),
    path("track/", include("shequ.affairs.tracking_urls")),
    path("queue/", include("shequ.queueing.urls")),
    path("people/", include("shequ.people.urls")),
    path("grid/", include("shequ.grid.urls")),
    path("open311/v2/", include("shequ.grid.open311_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler400 = "shequ.core.views.bad_request"
handler403 = "shequ.core.views.permission_denied"
handler404 = "shequ.core.views.page_not_found"
handler500 = "shequ.core.views.server_error"

if settings.DEBUG:  # pragma: no cover
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)  # type: ignore[arg-type]
