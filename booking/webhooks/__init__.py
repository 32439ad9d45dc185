"""Outgoing webhooks (issue 19): the endpoints administrators register, their delivery log,
and the worker's step that sends the events queued by `booking.kernel.webhook_events`."""

from booking.kernel.webhook_events import EVENT_TYPES, EventType
from booking.webhooks.deliveries import (
    DeliveryStatus,
    DeliveryView,
    list_deliveries,
    resend_delivery,
)
from booking.webhooks.delivery import MAX_ATTEMPTS, PAUSE_AFTER, WebhookReport, deliver_webhooks
from booking.webhooks.endpoints import (
    EVENT_DESCRIPTIONS,
    EndpointStatus,
    NewWebhook,
    WebhookChanges,
    WebhookInput,
    WebhookView,
    count_paused,
    create_webhook,
    delete_webhook,
    list_webhooks,
    update_webhook,
    webhook,
    webhook_secret,
)

__all__ = [
    "EVENT_DESCRIPTIONS",
    "EVENT_TYPES",
    "MAX_ATTEMPTS",
    "PAUSE_AFTER",
    "DeliveryStatus",
    "DeliveryView",
    "EndpointStatus",
    "EventType",
    "NewWebhook",
    "WebhookChanges",
    "WebhookInput",
    "WebhookReport",
    "WebhookView",
    "count_paused",
    "create_webhook",
    "delete_webhook",
    "deliver_webhooks",
    "list_deliveries",
    "list_webhooks",
    "resend_delivery",
    "update_webhook",
    "webhook",
    "webhook_secret",
]
