import os

from django.core.wsgi import get_wsgi_application

from socconsole.lib.chunked import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socconsole.settings")
application = ChunkedBodies(get_wsgi_application())
