"""The staff back office: Django's admin, scoped per store, over the orders, notes and
refunds apps. It is the one app that imports all three (as config/urls.py does for the
API); every change it makes goes through their services."""
