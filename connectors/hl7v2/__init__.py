"""HL7 v2 (2.3 to 2.8) connector: ADT, VXU and ORU messages to hub events, MLLP listener with ACKs."""
