namespace Fleetkey.Api.Authentication;

/// <summary>
/// Who signed a request: set as an <see cref="Microsoft.AspNetCore.Http.HttpContext"/> feature by
/// the SigV4 middleware once the signature is verified. <see cref="Region"/> is the region of the
/// credential scope; it becomes the region of the ARNs the request creates and answers with.
/// </summary>
public sealed record SigV4Identity(string AccessKeyId, string Region);
