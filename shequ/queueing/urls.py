"""Queue pages. The kiosk, ticket, follow, booking, display and tablet pages are public: they run
on devices in the hall or on residents' phones, and carry a centre code or an unguessable token.
The window console, the appointment list and the statistics are for signed-in centre staff."""

from django.urls import path

from . import console_views, display_views, kiosk_views, stats_views

app_name = "queueing"

urlpatterns = [
    # public: kiosk, ticket, follow on a phone, appointments
    path("kiosk/<str:centre_code>/", kiosk_views.kiosk, name="kiosk"),
    path("kiosk/<str:centre_code>/check-in/", kiosk_views.check_in, name="check_in"),
    path("ticket/<str:token>/", kiosk_views.ticket, name="ticket"),
    path("t/<str:token>/", kiosk_views.follow, name="follow"),
    path("book/<str:centre_code>/", kiosk_views.book, name="book"),
    path("book/<str:centre_code>/slots/", kiosk_views.book_slots, name="book_slots"),
    path("appointment/<str:appointment_code>/", kiosk_views.appointment, name="appointment"),
    path("cancel/", kiosk_views.cancel, name="cancel"),
    # public: the hall TV and the rating tablet at a window
    path("display/<str:centre_code>/", display_views.display, name="display"),
    path("display/<str:centre_code>/state/", display_views.display_state, name="display_state"),
    path("tablet/<str:centre_code>/<int:window_number>/", display_views.tablet, name="tablet"),
    path("rate/<str:token>/", display_views.rate, name="rate"),
    # staff
    path("", console_views.index, name="index"),
    path("windows/<int:pk>/", console_views.window, name="window"),
    path("windows/<int:pk>/<str:action>/", console_views.window_action, name="window_action"),
    path("appointments/", console_views.appointments, name="appointments"),
    path("stats/", stats_views.stats, name="stats"),
]
