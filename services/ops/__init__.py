"""Operations: health of the broker, topics, outbox and (as they land) every processor."""
