"""GB/T 28181-2016/2022: registration, keepalives, alarms (MANSCDP), catalog, SIP shell."""
