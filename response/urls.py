from django.urls import path

from response import views

app_name = "response"

urlpatterns = [
    path("s/<id:sub>/blocklist/", views.blocklist_page, name="blocklist"),
    path("s/<id:sub>/blocklist/block/", views.block_view, name="block"),
    path("s/<id:sub>/blocklist/<id:entry_id>/renew/", views.renew_view, name="renew"),
    path("s/<id:sub>/blocklist/<id:entry_id>/remove/", views.unblock_view, name="unblock"),
    path("s/<id:sub>/blocklist/never-block/", views.never_block_add, name="never-block-add"),
    path("s/<id:sub>/blocklist/never-block/<id:never_id>/remove/", views.never_block_remove,
         name="never-block-remove"),
    path("s/<id:sub>/blocklist/feed-tokens/", views.feed_token_create, name="feed-token-create"),
    path("s/<id:sub>/blocklist/feed-tokens/<id:token_id>/revoke/", views.feed_token_revoke,
         name="feed-token-revoke"),
    path("s/<id:sub>/webhooks/", views.webhook_page, name="webhooks"),
    path("s/<id:sub>/webhooks/new/", views.webhook_create, name="webhook-create"),
    path("s/<id:sub>/webhooks/<id:webhook_id>/delete/", views.webhook_delete,
         name="webhook-delete"),
    path("s/<id:sub>/webhooks/deliveries/<id:delivery_id>/resend/", views.delivery_resend,
         name="delivery-resend"),
    path("s/<id:sub>/response-actions/", views.action_request, name="action"),
    path("feeds/<str:token>/blocklist.txt", views.feed, name="feed"),
]
