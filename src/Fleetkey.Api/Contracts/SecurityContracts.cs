using System.Text.Json.Serialization;

namespace Fleetkey.Api.Contracts;

// The wire shapes of certificates, thing principals, policies and RegisterThing, as the model names them.

internal sealed record SetAsActiveRequest(
    [property: JsonPropertyName("setAsActive")] bool? SetAsActive);

internal sealed record KeyPairDto(
    [property: JsonPropertyName("PublicKey")] string PublicKey,
    [property: JsonPropertyName("PrivateKey")] string? PrivateKey);

internal sealed record CreateKeysAndCertificateResponse(
    [property: JsonPropertyName("certificateArn")] string CertificateArn,
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("certificatePem")] string CertificatePem,
    [property: JsonPropertyName("keyPair")] KeyPairDto KeyPair);

internal sealed record CreateCertificateFromCsrRequest(
    [property: JsonPropertyName("certificateSigningRequest")] string CertificateSigningRequest,
    [property: JsonPropertyName("setAsActive")] bool? SetAsActive);

internal sealed record CreateCertificateFromCsrResponse(
    [property: JsonPropertyName("certificateArn")] string CertificateArn,
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("certificatePem")] string CertificatePem);

internal sealed record RegisterCertificateRequest(
    [property: JsonPropertyName("certificatePem")] string CertificatePem,
    [property: JsonPropertyName("caCertificatePem")] string? CaCertificatePem,
    [property: JsonPropertyName("setAsActive")] bool? SetAsActive,
    [property: JsonPropertyName("status")] string? Status);

internal sealed record RegisterCertificateResponse(
    [property: JsonPropertyName("certificateArn")] string CertificateArn,
    [property: JsonPropertyName("certificateId")] string CertificateId);

internal sealed record CertificateIdRequest(
    [property: JsonPropertyName("certificateId")] string CertificateId);

internal sealed record CertificateValidity(
    [property: JsonPropertyName("notBefore")] DateTimeOffset NotBefore,
    [property: JsonPropertyName("notAfter")] DateTimeOffset NotAfter);

internal sealed record CertificateDescription(
    [property: JsonPropertyName("certificateArn")] string CertificateArn,
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("caCertificateId")] string? CaCertificateId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("certificatePem")] string CertificatePem,
    [property: JsonPropertyName("ownedBy")] string OwnedBy,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("lastModifiedDate")] DateTimeOffset LastModifiedDate,
    [property: JsonPropertyName("customerVersion")] long CustomerVersion,
    [property: JsonPropertyName("generationId")] string GenerationId,
    [property: JsonPropertyName("validity")] CertificateValidity Validity,
    [property: JsonPropertyName("certificateMode")] string CertificateMode);

internal sealed record DescribeCertificateResponse(
    [property: JsonPropertyName("certificateDescription")] CertificateDescription CertificateDescription);

internal sealed record ListCertificatesRequest(
    [property: JsonPropertyName("caCertificateId")] string? CaCertificateId,
    [property: JsonPropertyName("pageSize")] int? PageSize,
    [property: JsonPropertyName("marker")] string? Marker,
    [property: JsonPropertyName("ascendingOrder")] bool? AscendingOrder);

internal sealed record CertificateSummary(
    [property: JsonPropertyName("certificateArn")] string CertificateArn,
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("certificateMode")] string CertificateMode,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate);

internal sealed record ListCertificatesResponse(
    [property: JsonPropertyName("certificates")] IReadOnlyList<CertificateSummary> Certificates,
    [property: JsonPropertyName("nextMarker")] string? NextMarker);

internal sealed record UpdateCertificateRequest(
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("newStatus")] string NewStatus);

internal sealed record DeleteCertificateRequest(
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("forceDelete")] bool? ForceDelete);

// Thing principals

internal sealed record ThingPrincipalRequest(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("principal")] string Principal,
    [property: JsonPropertyName("thingPrincipalType")] string? ThingPrincipalType);

internal sealed record ListThingPrincipalsRequest(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("nextToken")] string? NextToken,
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("thingPrincipalType")] string? ThingPrincipalType);

internal sealed record ListThingPrincipalsResponse(
    [property: JsonPropertyName("principals")] IReadOnlyList<string> Principals,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record ThingPrincipalObject(
    [property: JsonPropertyName("principal")] string Principal,
    [property: JsonPropertyName("thingPrincipalType")] string ThingPrincipalType);

internal sealed record ListThingPrincipalsV2Response(
    [property: JsonPropertyName("thingPrincipalObjects")] IReadOnlyList<ThingPrincipalObject> ThingPrincipalObjects,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record ListPrincipalThingsRequest(
    [property: JsonPropertyName("principal")] string Principal,
    [property: JsonPropertyName("nextToken")] string? NextToken,
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("thingPrincipalType")] string? ThingPrincipalType);

internal sealed record ListPrincipalThingsResponse(
    [property: JsonPropertyName("things")] IReadOnlyList<string> Things,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record PrincipalThingObject(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("thingPrincipalType")] string ThingPrincipalType);

internal sealed record ListPrincipalThingsV2Response(
    [property: JsonPropertyName("principalThingObjects")] IReadOnlyList<PrincipalThingObject> PrincipalThingObjects,
    [property: JsonPropertyName("nextToken")] string? NextToken);

// Policies

internal sealed record CreatePolicyRequest(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("policyDocument")] string PolicyDocument,
    [property: JsonPropertyName("tags")] List<TagDto>? Tags);

internal sealed record CreatePolicyResponse(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("policyArn")] string PolicyArn,
    [property: JsonPropertyName("policyDocument")] string PolicyDocument,
    [property: JsonPropertyName("policyVersionId")] string PolicyVersionId);

internal sealed record PolicyNameRequest(
    [property: JsonPropertyName("policyName")] string PolicyName);

internal sealed record GetPolicyResponse(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("policyArn")] string PolicyArn,
    [property: JsonPropertyName("policyDocument")] string PolicyDocument,
    [property: JsonPropertyName("defaultVersionId")] string DefaultVersionId,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("lastModifiedDate")] DateTimeOffset LastModifiedDate,
    [property: JsonPropertyName("generationId")] string GenerationId);

internal sealed record ListPoliciesRequest(
    [property: JsonPropertyName("marker")] string? Marker,
    [property: JsonPropertyName("pageSize")] int? PageSize,
    [property: JsonPropertyName("ascendingOrder")] bool? AscendingOrder);

internal sealed record PolicySummary(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("policyArn")] string PolicyArn);

internal sealed record ListPoliciesResponse(
    [property: JsonPropertyName("policies")] IReadOnlyList<PolicySummary> Policies,
    [property: JsonPropertyName("nextMarker")] string? NextMarker);

internal sealed record CreatePolicyVersionRequest(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("policyDocument")] string PolicyDocument,
    [property: JsonPropertyName("setAsDefault")] bool? SetAsDefault);

internal sealed record CreatePolicyVersionResponse(
    [property: JsonPropertyName("policyArn")] string PolicyArn,
    [property: JsonPropertyName("policyDocument")] string PolicyDocument,
    [property: JsonPropertyName("policyVersionId")] string PolicyVersionId,
    [property: JsonPropertyName("isDefaultVersion")] bool IsDefaultVersion);

internal sealed record PolicyVersionRequest(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("policyVersionId")] string PolicyVersionId);

internal sealed record GetPolicyVersionResponse(
    [property: JsonPropertyName("policyArn")] string PolicyArn,
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("policyDocument")] string PolicyDocument,
    [property: JsonPropertyName("policyVersionId")] string PolicyVersionId,
    [property: JsonPropertyName("isDefaultVersion")] bool IsDefaultVersion,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("lastModifiedDate")] DateTimeOffset LastModifiedDate,
    [property: JsonPropertyName("generationId")] string GenerationId);

internal sealed record PolicyVersionSummary(
    [property: JsonPropertyName("versionId")] string VersionId,
    [property: JsonPropertyName("isDefaultVersion")] bool IsDefaultVersion,
    [property: JsonPropertyName("createDate")] DateTimeOffset CreateDate);

internal sealed record ListPolicyVersionsResponse(
    [property: JsonPropertyName("policyVersions")] IReadOnlyList<PolicyVersionSummary> PolicyVersions);

internal sealed record PolicyTargetRequest(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("target")] string Target);

internal sealed record ListAttachedPoliciesRequest(
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("recursive")] bool? Recursive,
    [property: JsonPropertyName("marker")] string? Marker,
    [property: JsonPropertyName("pageSize")] int? PageSize);

internal sealed record ListAttachedPoliciesResponse(
    [property: JsonPropertyName("policies")] IReadOnlyList<PolicySummary> Policies,
    [property: JsonPropertyName("nextMarker")] string? NextMarker);

internal sealed record ListTargetsForPolicyRequest(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("marker")] string? Marker,
    [property: JsonPropertyName("pageSize")] int? PageSize);

internal sealed record ListTargetsForPolicyResponse(
    [property: JsonPropertyName("targets")] IReadOnlyList<string> Targets,
    [property: JsonPropertyName("nextMarker")] string? NextMarker);

internal sealed record GetEffectivePoliciesRequest(
    [property: JsonPropertyName("principal")] string? Principal,
    [property: JsonPropertyName("cognitoIdentityPoolId")] string? CognitoIdentityPoolId,
    [property: JsonPropertyName("thingName")] string? ThingName);

internal sealed record EffectivePolicyDto(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("policyArn")] string PolicyArn,
    [property: JsonPropertyName("policyDocument")] string PolicyDocument);

internal sealed record GetEffectivePoliciesResponse(
    [property: JsonPropertyName("effectivePolicies")] IReadOnlyList<EffectivePolicyDto> EffectivePolicies);

internal sealed record TestAuthorizationRequest(
    [property: JsonPropertyName("authInfos")] IReadOnlyList<AuthInfoDto> AuthInfos,
    [property: JsonPropertyName("clientId")] string? ClientId,
    [property: JsonPropertyName("cognitoIdentityPoolId")] string? CognitoIdentityPoolId,
    [property: JsonPropertyName("policyNamesToAdd")] IReadOnlyList<string>? PolicyNamesToAdd,
    [property: JsonPropertyName("policyNamesToSkip")] IReadOnlyList<string>? PolicyNamesToSkip,
    [property: JsonPropertyName("principal")] string? Principal);

internal sealed record AuthInfoDto(
    [property: JsonPropertyName("actionType")] string? ActionType,
    [property: JsonPropertyName("resources")] IReadOnlyList<string> Resources);

internal sealed record PolicyRefDto(
    [property: JsonPropertyName("policyName")] string PolicyName,
    [property: JsonPropertyName("policyArn")] string PolicyArn);

internal sealed record PoliciesDto([property: JsonPropertyName("policies")] IReadOnlyList<PolicyRefDto> Policies);

internal sealed record DeniedDto(
    [property: JsonPropertyName("implicitDeny")] PoliciesDto? ImplicitDeny,
    [property: JsonPropertyName("explicitDeny")] PoliciesDto? ExplicitDeny);

internal sealed record AuthResultDto(
    [property: JsonPropertyName("authInfo")] AuthInfoDto AuthInfo,
    [property: JsonPropertyName("allowed")] PoliciesDto Allowed,
    [property: JsonPropertyName("denied")] DeniedDto Denied,
    [property: JsonPropertyName("authDecision")] string AuthDecision,
    [property: JsonPropertyName("missingContextValues")] IReadOnlyList<string> MissingContextValues);

internal sealed record TestAuthorizationResponse(
    [property: JsonPropertyName("authResults")] IReadOnlyList<AuthResultDto> AuthResults);

// RegisterThing

internal sealed record RegisterThingRequest(
    [property: JsonPropertyName("templateBody")] string TemplateBody,
    [property: JsonPropertyName("parameters")] Dictionary<string, string>? Parameters);

internal sealed record RegisterThingResponse(
    [property: JsonPropertyName("certificatePem")] string? CertificatePem,
    [property: JsonPropertyName("resourceArns")] IReadOnlyDictionary<string, string> ResourceArns);
