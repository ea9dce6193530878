"""The base of every back-office admin: a user sees, picks and changes only their tenant's rows.

- Rows, foreign-key and many-to-many choices go through `kvit.users.scoping.visible`.
- The `tenant` field is fixed to the user's own tenant for everyone but superusers.
- Permissions come from the role mapping in `kvit.users.roles`: tenant staff have no Django
  model permissions.
- History (django-simple-history) can be viewed, never reverted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.contrib.filters.admin import AutocompleteSelectFilter
from unfold.paginator import InfinitePaginator

from kvit.tenants.models import Tenant
from kvit.users import roles
from kvit.users.scoping import visible

TENANT = "tenant"


def has_tenant_field(model: type[models.Model]) -> bool:
    return any(field.name == TENANT for field in model._meta.fields)


def tenant_id_of(obj: models.Model) -> int | None:
    """The tenant `obj` belongs to, read along its model's `tenant_path` (unsaved rows too)."""
    path = getattr(type(obj), "tenant_path", None)
    if path is None:
        return None
    *hops, last = str(path).split("__")
    node: Any = obj
    try:
        for hop in hops:
            node = getattr(node, hop)
            if node is None:
                return None
    except ObjectDoesNotExist:
        return None
    return node.pk if last == "pk" else getattr(node, f"{last}_id", None)


def scoped_choices(
    user: Any, model: type[models.Model], queryset: models.QuerySet[Any] | None = None
) -> models.QuerySet[Any]:
    """The rows of `model` that `user` may pick in a form or a filter."""
    queryset = model._default_manager.all() if queryset is None else queryset
    if not user.is_superuser and getattr(model, "tenant_path", None) is None:
        return queryset.none()  # groups, permissions …: not for tenant staff
    return visible(user, queryset)


class ScopedMixin:
    """Rows, choices and permissions: shared by the model admins and the inlines."""

    model: type[models.Model]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        return visible(request.user, super().get_queryset(request))  # type: ignore[misc]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        user: Any = request.user
        if db_field.name == TENANT and db_field.is_relation and not user.is_superuser:
            # Disabled: whatever is posted is ignored. Unlike an excluded field it still takes
            # part in unique and overlap validation.
            return db_field.formfield(
                queryset=Tenant.objects.filter(pk=user.tenant_id),
                initial=user.tenant_id,
                disabled=True,
                widget=forms.HiddenInput,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            base = self.get_field_queryset(kwargs.get("using"), db_field, request)  # type: ignore[attr-defined]
            kwargs["queryset"] = scoped_choices(request.user, db_field.related_model, base)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            base = self.get_field_queryset(kwargs.get("using"), db_field, request)  # type: ignore[attr-defined]
            kwargs["queryset"] = scoped_choices(request.user, db_field.related_model, base)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    # --- permissions: the role mapping, and an object must be of the user's tenant ---------

    def _owns(self, request: HttpRequest, obj: models.Model | None) -> bool:
        user: Any = request.user
        return obj is None or user.is_superuser or tenant_id_of(obj) == user.tenant_id

    def has_module_permission(self, request: HttpRequest) -> bool:
        return roles.may_view(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.may_view(request.user) and self._owns(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.may_change(request.user, self.model) and self._owns(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.may_change(request.user, self.model) and self._owns(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.may_change(request.user, self.model) and self._owns(request, obj)


class ScopedModelAdmin(ScopedMixin, SimpleHistoryAdmin, ModelAdmin):  # type: ignore[misc]
    """Every Kvit model admin derives from this. (The type ignores here: unfold and
    simple-history ship no type hints, so mypy sees their classes as Any.)"""

    list_filter_submit = True  # unfold's autocomplete filters need the submit button
    list_per_page = 50

    def act_on_each(
        self,
        request: HttpRequest,
        objects: Iterable[Any],
        act: Callable[[Any], object],
        done: Callable[[Any], str],
    ) -> None:
        """An admin action's work: `act` on every object; a refusal (ValidationError) is
        reported for its object and the others still go on; `done` words a success."""
        for obj in objects:
            try:
                act(obj)
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, done(obj), messages.SUCCESS)

    # --- the tenant column and filter are for superusers, who see every tenant ------------

    def _show_tenant(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and has_tenant_field(self.model)

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = tuple(super().get_list_display(request))
        return (*columns, TENANT) if self._show_tenant(request) else columns

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = tuple(super().get_list_filter(request))
        return (TENANT, *filters) if self._show_tenant(request) else filters

    def get_list_select_related(self, request: HttpRequest) -> Any:
        related = super().get_list_select_related(request)
        if self._show_tenant(request) and isinstance(related, list | tuple):
            return (*related, TENANT)
        return related

    # --- saving ---------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.assign_tenant(request, obj)
        super().save_model(request, obj, form, change)

    def assign_tenant(self, request: HttpRequest, obj: Any) -> None:
        """A tenant's staff save rows of their own tenant, whatever was posted."""
        user: Any = request.user
        if has_tenant_field(type(obj)) and not user.is_superuser:
            obj.tenant_id = user.tenant_id

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Inline rows that carry their own tenant (a premise's meters) follow their parent's.
        if has_tenant_field(formset.model) and hasattr(form.instance, "tenant_id"):
            for row in formset.forms:
                row.instance.tenant_id = form.instance.tenant_id
        super().save_formset(request, form, formset, change)

    # --- history: viewable, never revertible ----------------------------------------------

    def _check_history_access(self, request: HttpRequest, object_id: str) -> None:
        # simple-history falls back to the historical row when the object is not in
        # get_queryset(); only superusers may see history that is not in their scope.
        if not request.user.is_superuser and self.get_object(request, unquote(object_id)) is None:
            raise Http404

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        self._check_history_access(request, object_id)
        response: HttpResponse = super().history_view(request, object_id, extra_context)
        return response

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied  # the view would save the posted form: a revert
        self._check_history_access(request, object_id)
        request.kvit_history_version = True  # type: ignore[attr-defined]
        response: HttpResponse = super().history_form_view(
            request, object_id, version_id, extra_context
        )
        return response

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if not getattr(request, "kvit_history_version", False):
            return super().get_readonly_fields(request, obj)
        # A past version: every field is shown, none edited. get_fieldsets() builds the form,
        # which asks for the read-only fields again, so answer it normally meanwhile.
        request.kvit_history_version = False  # type: ignore[attr-defined]
        try:
            return flatten_fieldsets(self.get_fieldsets(request, obj))
        finally:
            request.kvit_history_version = True  # type: ignore[attr-defined]


class ScopedInlineMixin(ScopedMixin):
    extra = 0

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A child's tenant is its parent's (ScopedModelAdmin.save_formset fills it).
        return [f for f in super().get_fields(request, obj) if f != TENANT]  # type: ignore[misc]


class ScopedTabularInline(ScopedInlineMixin, TabularInline):  # type: ignore[misc]
    pass


class ScopedStackedInline(ScopedInlineMixin, StackedInline):  # type: ignore[misc]
    pass


class ScopedAutocompleteFilter(AutocompleteSelectFilter):  # type: ignore[misc]
    """Unfold's autocomplete filter for a foreign key, whose chosen value is also looked up
    only among the rows the user may see (the search itself goes through the related
    model's scoped admin)."""

    def choices(self, changelist: Any) -> Any:
        for choice in super().choices(changelist):
            field = choice["form"].fields[self.lookup_kwarg]
            field.queryset = scoped_choices(self.request.user, field.queryset.model)
            yield choice


class LargeTable:
    """For tables of up to millions of rows: no COUNT(*) of the whole table or of the result,
    so a list page costs the same few queries at any size."""

    show_full_result_count = False
    paginator = InfinitePaginator


class ParentEditedAdmin(ScopedModelAdmin):
    """Rows that are edited only inline on their parent, where the set rules are checked
    (shares adding up to 1, tariff tiers); here they can be listed and their history read.

    The delete permission stays as the role gives it: Django asks it of every related admin
    when a parent is deleted (a tariff with its tiers). Only the row's own delete is refused.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "show_delete": False}
        response: HttpResponse = super().change_view(request, object_id, form_url, extra_context)
        return response

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        raise PermissionDenied


class NoHistory:
    """For models that keep no simple-history copies (they never change, or their events are
    their history): Django's own history page."""

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        response: HttpResponse = ModelAdmin.history_view(self, request, object_id, extra_context)
        return response


class ReadOnly(NoHistory):
    """Rows the back-office only shows: written by an import, a check or an action."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def bullet_list(texts: list[str]) -> str:
    """Sentences as an HTML list, or a dash for none."""
    if not texts:
        return "—"
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((t,) for t in texts)))
