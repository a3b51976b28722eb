import os

from django.core.wsgi import get_wsgi_application

from socconsole.lib.chunked import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socconsole.settings")
application = ChunkedBodies(get_wsgi_application())

# A second process on an embedded events engine fails here, at start-up, saying why.
from search.engine import claim_for_process  # noqa: E402

claim_for_process()
