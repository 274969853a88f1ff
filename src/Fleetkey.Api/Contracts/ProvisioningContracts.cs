using System.Text.Json.Serialization;

namespace Fleetkey.Api.Contracts;

// The wire shapes of CreateProvisioningTemplate and its family, as the model names them.

internal sealed record ProvisioningHookDto(
    [property: JsonPropertyName("payloadVersion")] string? PayloadVersion,
    [property: JsonPropertyName("targetArn")] string TargetArn);

internal sealed record CreateProvisioningTemplateRequest(
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("templateBody")] string TemplateBody,
    [property: JsonPropertyName("enabled")] bool? Enabled,
    [property: JsonPropertyName("provisioningRoleArn")] string ProvisioningRoleArn,
    [property: JsonPropertyName("preProvisioningHook")] ProvisioningHookDto? PreProvisioningHook,
    [property: JsonPropertyName("tags")] List<TagDto>? Tags,
    [property: JsonPropertyName("type")] string? Type);

internal sealed record CreateProvisioningTemplateResponse(
    [property: JsonPropertyName("templateArn")] string TemplateArn,
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("defaultVersionId")] long DefaultVersionId);

internal sealed record ProvisioningTemplateNameRequest(
    [property: JsonPropertyName("templateName")] string TemplateName);

internal sealed record DescribeProvisioningTemplateResponse(
    [property: JsonPropertyName("templateArn")] string TemplateArn,
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("lastModifiedDate")] DateTimeOffset LastModifiedDate,
    [property: JsonPropertyName("defaultVersionId")] long DefaultVersionId,
    [property: JsonPropertyName("templateBody")] string TemplateBody,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("provisioningRoleArn")] string ProvisioningRoleArn,
    [property: JsonPropertyName("preProvisioningHook")] ProvisioningHookDto? PreProvisioningHook,
    [property: JsonPropertyName("type")] string Type);

internal sealed record UpdateProvisioningTemplateRequest(
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("enabled")] bool? Enabled,
    [property: JsonPropertyName("defaultVersionId")] long? DefaultVersionId,
    [property: JsonPropertyName("provisioningRoleArn")] string? ProvisioningRoleArn,
    [property: JsonPropertyName("preProvisioningHook")] ProvisioningHookDto? PreProvisioningHook,
    [property: JsonPropertyName("removePreProvisioningHook")] bool? RemovePreProvisioningHook);

internal sealed record ListProvisioningTemplatesRequest(
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record ProvisioningTemplateSummary(
    [property: JsonPropertyName("templateArn")] string TemplateArn,
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("lastModifiedDate")] DateTimeOffset LastModifiedDate,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("type")] string Type);

internal sealed record ListProvisioningTemplatesResponse(
    [property: JsonPropertyName("templates")] IReadOnlyList<ProvisioningTemplateSummary> Templates,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record CreateProvisioningTemplateVersionRequest(
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("templateBody")] string TemplateBody,
    [property: JsonPropertyName("setAsDefault")] bool? SetAsDefault);

internal sealed record CreateProvisioningTemplateVersionResponse(
    [property: JsonPropertyName("templateArn")] string TemplateArn,
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("versionId")] long VersionId,
    [property: JsonPropertyName("isDefaultVersion")] bool IsDefaultVersion);

internal sealed record ProvisioningTemplateVersionRequest(
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("versionId")] long VersionId);

internal sealed record DescribeProvisioningTemplateVersionResponse(
    [property: JsonPropertyName("versionId")] long VersionId,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("templateBody")] string TemplateBody,
    [property: JsonPropertyName("isDefaultVersion")] bool IsDefaultVersion);

internal sealed record ListProvisioningTemplateVersionsRequest(
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record ProvisioningTemplateVersionSummary(
    [property: JsonPropertyName("versionId")] long VersionId,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("isDefaultVersion")] bool IsDefaultVersion);

internal sealed record ListProvisioningTemplateVersionsResponse(
    [property: JsonPropertyName("versions")] IReadOnlyList<ProvisioningTemplateVersionSummary> Versions,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record CreateProvisioningClaimResponse(
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("certificatePem")] string CertificatePem,
    [property: JsonPropertyName("keyPair")] KeyPairDto KeyPair,
    [property: JsonPropertyName("expiration")] DateTimeOffset Expiration);
