using System.Text.Json.Serialization;

namespace Fleetkey.Api.Contracts;

// The wire shapes of RegisterCACertificate and its family, and of the registration code, as the model names them.

internal sealed record GetRegistrationCodeResponse(
    [property: JsonPropertyName("registrationCode")] string RegistrationCode);

internal sealed record RegistrationConfigDto(
    [property: JsonPropertyName("templateBody")] string? TemplateBody,
    [property: JsonPropertyName("roleArn")] string? RoleArn,
    [property: JsonPropertyName("templateName")] string? TemplateName);

internal sealed record RegisterCaCertificateRequest(
    [property: JsonPropertyName("caCertificate")] string CaCertificate,
    [property: JsonPropertyName("verificationCertificate")] string? VerificationCertificate,
    [property: JsonPropertyName("setAsActive")] bool? SetAsActive,
    [property: JsonPropertyName("allowAutoRegistration")] bool? AllowAutoRegistration,
    [property: JsonPropertyName("registrationConfig")] RegistrationConfigDto? RegistrationConfig,
    [property: JsonPropertyName("tags")] List<TagDto>? Tags,
    [property: JsonPropertyName("certificateMode")] string? CertificateMode);

internal sealed record CaCertificateIdRequest(
    [property: JsonPropertyName("certificateId")] string CertificateId);

internal sealed record CaCertificateDescription(
    [property: JsonPropertyName("certificateArn")] string CertificateArn,
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("certificatePem")] string CertificatePem,
    [property: JsonPropertyName("ownedBy")] string OwnedBy,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("autoRegistrationStatus")] string AutoRegistrationStatus,
    [property: JsonPropertyName("lastModifiedDate")] DateTimeOffset LastModifiedDate,
    [property: JsonPropertyName("customerVersion")] long CustomerVersion,
    [property: JsonPropertyName("generationId")] string GenerationId,
    [property: JsonPropertyName("validity")] CertificateValidity Validity,
    [property: JsonPropertyName("certificateMode")] string CertificateMode);

internal sealed record DescribeCaCertificateResponse(
    [property: JsonPropertyName("certificateDescription")] CaCertificateDescription CertificateDescription,
    [property: JsonPropertyName("registrationConfig")] RegistrationConfigDto? RegistrationConfig);

internal sealed record UpdateCaCertificateRequest(
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("newStatus")] string? NewStatus,
    [property: JsonPropertyName("newAutoRegistrationStatus")] string? NewAutoRegistrationStatus,
    [property: JsonPropertyName("registrationConfig")] RegistrationConfigDto? RegistrationConfig,
    [property: JsonPropertyName("removeAutoRegistration")] bool? RemoveAutoRegistration);

internal sealed record ListCaCertificatesRequest(
    [property: JsonPropertyName("pageSize")] int? PageSize,
    [property: JsonPropertyName("marker")] string? Marker,
    [property: JsonPropertyName("ascendingOrder")] bool? AscendingOrder,
    [property: JsonPropertyName("templateName")] string? TemplateName);

internal sealed record CaCertificateSummary(
    [property: JsonPropertyName("certificateArn")] string CertificateArn,
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate);

internal sealed record ListCaCertificatesResponse(
    [property: JsonPropertyName("certificates")] IReadOnlyList<CaCertificateSummary> Certificates,
    [property: JsonPropertyName("nextMarker")] string? NextMarker);
