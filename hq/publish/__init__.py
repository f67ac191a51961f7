"""`hq publish catalog|stock`: the assortment and stock, sent to every store's downlink."""
