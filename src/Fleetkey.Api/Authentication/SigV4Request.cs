using Microsoft.Extensions.Primitives;

namespace Fleetkey.Api.Authentication;

/// <summary>
/// The parts of an HTTP request that SigV4 covers, as they arrived on the wire.
/// </summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="RawPath">The percent-encoded path exactly as in the request target, without the query.</param>
/// <param name="RawQuery">The raw query string, without the leading <c>?</c>; empty when there is none.</param>
/// <param name="Headers">Every header as received; a name may repeat and may carry several values.</param>
/// <param name="PayloadHash">The lowercase hex SHA-256 of the body.</param>
internal sealed record SigV4Request(
    string Method,
    string RawPath,
    string RawQuery,
    IEnumerable<KeyValuePair<string, StringValues>> Headers,
    string PayloadHash);
