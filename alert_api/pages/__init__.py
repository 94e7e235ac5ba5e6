"""Server-rendered pages (Jinja2), Chinese with an English switch."""

from fastapi import APIRouter

from alert_api.pages import auth_pages, guardian_pages, staff_pages

router = APIRouter(include_in_schema=False)
for module in (auth_pages, staff_pages, guardian_pages):
    router.include_router(module.router)

__all__ = ["router"]
