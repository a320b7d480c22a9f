"""Web hosting: the speaker and listener pages in a private S3 bucket behind CloudFront."""

from components.web_hosting.component import WebHosting, WebHostingArgs
from components.web_hosting.site_files import SITE_ROOT, SiteFile, site_files

__all__ = ["SITE_ROOT", "SiteFile", "WebHosting", "WebHostingArgs", "site_files"]
