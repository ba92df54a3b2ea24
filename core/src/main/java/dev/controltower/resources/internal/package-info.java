/**
 * The machinery behind {@link dev.controltower.resources.RateLimiter} and
 * {@link dev.controltower.resources.ResourceTracker}. Not API: names and signatures here may change in
 * any release. Use the interfaces' factories and builders.
 */
package dev.controltower.resources.internal;
