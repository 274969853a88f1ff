namespace Fleetkey.Core.Errors;

/// <summary>
/// An AWS IoT error shape: the name SDKs surface as the error code and the HTTP status the
/// service model gives it. Fleetkey only answers with codes that exist in the model (or, for
/// authentication, the codes AWS's front door uses).
/// </summary>
public sealed class ErrorCode
{
    private ErrorCode(string name, int httpStatus)
    {
        Name = name;
        HttpStatus = httpStatus;
    }

    public string Name { get; }

    public int HttpStatus { get; }

    public static readonly ErrorCode InvalidRequest = new("InvalidRequestException", 400);
    public static readonly ErrorCode ResourceNotFound = new("ResourceNotFoundException", 404);
    public static readonly ErrorCode ResourceAlreadyExists = new("ResourceAlreadyExistsException", 409);
    public static readonly ErrorCode VersionConflict = new("VersionConflictException", 409);
    public static readonly ErrorCode LimitExceeded = new("LimitExceededException", 410);
    public static readonly ErrorCode DeleteConflict = new("DeleteConflictException", 409);
    public static readonly ErrorCode ConflictingResourceUpdate = new("ConflictingResourceUpdateException", 409);
    public static readonly ErrorCode CertificateState = new("CertificateStateException", 406);
    public static readonly ErrorCode CertificateValidation = new("CertificateValidationException", 400);
    public static readonly ErrorCode RegistrationCodeValidation = new("RegistrationCodeValidationException", 400);
    public static readonly ErrorCode MalformedPolicy = new("MalformedPolicyException", 400);
    public static readonly ErrorCode VersionsLimitExceeded = new("VersionsLimitExceededException", 409);
    public static readonly ErrorCode ResourceRegistrationFailure = new("ResourceRegistrationFailureException", 400);
    public static readonly ErrorCode Throttling = new("ThrottlingException", 400);
    public static readonly ErrorCode InternalFailure = new("InternalFailureException", 500);
    public static readonly ErrorCode ServiceUnavailable = new("ServiceUnavailableException", 503);
    public static readonly ErrorCode Unauthorized = new("UnauthorizedException", 401);

    // The device endpoint's own answers (it is not an AWS API; these are the names AWS uses for the same statuses elsewhere).
    public static readonly ErrorCode Forbidden = new("ForbiddenException", 403);
    public static readonly ErrorCode Conflict = new("ConflictException", 409);
    public static readonly ErrorCode TooManyRequests = new("TooManyRequestsException", 429);

    // The front door's codes (SigV4), as AWS answers them for rest-json services.
    public static readonly ErrorCode MissingAuthenticationToken = new("MissingAuthenticationTokenException", 403);
    public static readonly ErrorCode UnrecognizedClient = new("UnrecognizedClientException", 403);
    public static readonly ErrorCode InvalidSignature = new("InvalidSignatureException", 403);
    public static readonly ErrorCode IncompleteSignature = new("IncompleteSignatureException", 403);
    public static readonly ErrorCode AccessDenied = new("AccessDeniedException", 403);
    public static readonly ErrorCode RequestEntityTooLarge = new("RequestEntityTooLargeException", 413);
    public static readonly ErrorCode UnknownOperation = new("UnknownOperationException", 404);

    public override string ToString() => Name;
}
