package dev.controltower.spi;

/**
 * What {@link WindowStore#reserveTokens} decided: the {@link Outcome}, indexed by the plan's token
 * windows, and, when admitted, the time the tokens were counted at: the pair's time, which is later
 * than the caller's {@code now} when the clock moved back. A refund passes it back
 * ({@link WindowStore#refundTokens}) so that the store finds the buckets the reservation went to.
 *
 * @param outcome the decision, never null
 * @param countedAt when admitted, epoch ms the tokens were counted at; 0 when refused
 */
public record TokenGrant(Outcome outcome, long countedAt) {
  /**
   * Validates the outcome.
   *
   * @throws NullPointerException if {@code outcome} is null
   */
  public TokenGrant {
    if (outcome == null) {
      throw new NullPointerException("outcome must not be null");
    }
  }
}
