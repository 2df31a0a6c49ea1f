package dev.linchpin.data;

/** What a synthetic problem counts: a person's items, a person's money, or minutes spent per day. */
public enum EntityKind {
    ITEMS, MONEY, TIME
}
