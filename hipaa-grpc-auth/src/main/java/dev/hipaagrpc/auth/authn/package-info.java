/**
 * Person or entity authentication (45 CFR 164.312(d)), server and client side: bearer JWTs verified
 * against fixed keys, JWK Sets, JWKS URLs or OpenID Connect discovery, mutual-TLS peer identity,
 * certificate-bound tokens and token revocation on the server; bearer call credentials and an OAuth
 * 2.0 client-credentials token source on the client. Entry points: {@link
 * dev.hipaagrpc.auth.authn.AuthenticationServerInterceptor} (configured with {@link
 * dev.hipaagrpc.auth.authn.IssuerConfig}, {@link dev.hipaagrpc.auth.authn.KeySource}, {@link
 * dev.hipaagrpc.auth.authn.ClaimMapping} and {@link dev.hipaagrpc.auth.authn.PeerPrincipalMapper})
 * and {@link dev.hipaagrpc.auth.authn.BearerCallCredentials}.
 */
@NullMarked
package dev.hipaagrpc.auth.authn;

import org.jspecify.annotations.NullMarked;
