import os

from django.core.wsgi import get_wsgi_application

from socconsole.lib.chunked import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socconsole.settings")
application = ChunkedBodies(get_wsgi_application())

# A second process on an embedded events engine fails here, at start-up, saying why.
from search.engine import claim_for_process  # noqa: E402

claim_for_process()

# What start-up made lives as long as the process: load the URL configuration (and so
# every view and API module) now, then move it all out of the garbage collector's way.
# Otherwise each full collection walks those objects again, and a large request (5,000
# events) allocates enough to start several: a fifth of event ingestion's CPU time.
import gc  # noqa: E402

from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - imports the URLconf and its views
gc.collect()
gc.freeze()
