from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("kvit.api.urls")),
    *i18n_patterns(
        path("admin/", admin.site.urls),
        path("", include("kvit.portal.urls")),
        prefix_default_language=False,
    ),
]

handler500 = "kvit.config.errors.server_error"  # the page shows the error's id (R26)
