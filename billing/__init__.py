"""Money, independent of booking: fee policies, cost codes, charges (grows with the billing issue).

`billing` never imports `booking`; booking calls billing's public functions.
"""
