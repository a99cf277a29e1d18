/**
 * Spreading the elections of an application over its live candidates (docs/design.md, "Spreading elections"): who is
 * alive ({@code PresenceTracker}), what a fair share is and which moves reach it ({@code FairShares}), and the
 * candidacy that acts on it for each election ({@link dev.leaderpod.spread.ElectionSpreader}). Nothing here can make
 * two leaders: a move is a yield naming a successor, and every takeover is the elector's own compare-and-set.
 */
package dev.leaderpod.spread;
