"""The service as users get it: supply per satellite, beam, cell, gateway and laser; demand by
plan and local time; the tiered allocation of the one to the other (``allocation``)."""
