using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Services.Provisioning;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class ProvisioningTemplatesEndpoints
{
    public static IEndpointRouteBuilder MapProvisioningTemplates(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("CreateProvisioningTemplate", CreateProvisioningTemplate);
        routes.MapAws("DescribeProvisioningTemplate", DescribeProvisioningTemplate);
        routes.MapAws("UpdateProvisioningTemplate", UpdateProvisioningTemplate);
        routes.MapAws("DeleteProvisioningTemplate", DeleteProvisioningTemplate);
        routes.MapAws("ListProvisioningTemplates", ListProvisioningTemplates);
        routes.MapAws("CreateProvisioningTemplateVersion", CreateProvisioningTemplateVersion);
        routes.MapAws("DescribeProvisioningTemplateVersion", DescribeProvisioningTemplateVersion);
        routes.MapAws("ListProvisioningTemplateVersions", ListProvisioningTemplateVersions);
        routes.MapAws("DeleteProvisioningTemplateVersion", DeleteProvisioningTemplateVersion);
        return routes;
    }

    private static string TemplateArn(IotScope scope, string name) => Arn.For(scope, ResourceKind.ProvisioningTemplate, name);

    private static ProvisioningTemplateService.Hook? ToHook(ProvisioningHook? hook) =>
        hook is null ? null : new ProvisioningTemplateService.Hook(hook.TargetArn, hook.PayloadVersion);

    private static async Task<JsonHttpResult<CreateProvisioningTemplateResponse>> CreateProvisioningTemplate(
        AwsRequest<CreateProvisioningTemplateRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var created = await templates.CreateAsync(
            new ProvisioningTemplateService.NewTemplate(
                input.TemplateName,
                input.TemplateBody,
                input.ProvisioningRoleArn,
                input.Description,
                input.Enabled,
                input.Type,
                ToHook(input.PreProvisioningHook),
                TagsEndpoints.ToTags(input.Tags)),
            cancellationToken);
        var template = created.Template;
        return TypedResults.Json(
            new CreateProvisioningTemplateResponse { TemplateArn = TemplateArn(request.Scope, template.Name), TemplateName = template.Name, DefaultVersionId = AwsResults.Integer(template.DefaultVersionId) },
            ApiJsonContext.Default.CreateProvisioningTemplateResponse);
    }

    private static async Task<JsonHttpResult<DescribeProvisioningTemplateResponse>> DescribeProvisioningTemplate(
        AwsRequest<DescribeProvisioningTemplateRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var (template, version) = await templates.DescribeAsync(request.Input.TemplateName, cancellationToken);
        return TypedResults.Json(
            new DescribeProvisioningTemplateResponse
            {
                TemplateArn = TemplateArn(request.Scope, template.Name),
                TemplateName = template.Name,
                Description = template.Description,
                CreationDate = template.CreatedAt,
                LastModifiedDate = template.LastModifiedAt,
                DefaultVersionId = AwsResults.Integer(template.DefaultVersionId),
                TemplateBody = version.Body,
                Enabled = template.Enabled,
                ProvisioningRoleArn = template.ProvisioningRoleArn,
                PreProvisioningHook = template.HookTargetArn is { } target ? new ProvisioningHook { PayloadVersion = template.HookPayloadVersion, TargetArn = target } : null,
                Type = template.Type,
            },
            ApiJsonContext.Default.DescribeProvisioningTemplateResponse);
    }

    private static async Task<ContentHttpResult> UpdateProvisioningTemplate(
        AwsRequest<UpdateProvisioningTemplateRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        await templates.UpdateAsync(
            input.TemplateName,
            new ProvisioningTemplateService.TemplateUpdate(
                input.Description,
                input.Enabled,
                input.DefaultVersionId,
                input.ProvisioningRoleArn,
                ToHook(input.PreProvisioningHook),
                input.RemovePreProvisioningHook ?? false),
            cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DeleteProvisioningTemplate(
        AwsRequest<DeleteProvisioningTemplateRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        await templates.DeleteAsync(request.Input.TemplateName, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListProvisioningTemplatesResponse>> ListProvisioningTemplates(
        AwsRequest<ListProvisioningTemplatesRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await templates.ListAsync(request.Page(input.MaxResults), cancellationToken);
        var items = page.Items
            .Select(t => new ProvisioningTemplateSummary
            {
                TemplateArn = TemplateArn(request.Scope, t.Name),
                TemplateName = t.Name,
                Description = t.Description,
                CreationDate = t.CreatedAt,
                LastModifiedDate = t.LastModifiedAt,
                Enabled = t.Enabled,
                Type = t.Type,
            })
            .ToList();
        return TypedResults.Json(new ListProvisioningTemplatesResponse { Templates = items, NextToken = request.NextToken(page) }, ApiJsonContext.Default.ListProvisioningTemplatesResponse);
    }

    private static async Task<JsonHttpResult<CreateProvisioningTemplateVersionResponse>> CreateProvisioningTemplateVersion(
        AwsRequest<CreateProvisioningTemplateVersionRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var (version, isDefault) = await templates.CreateVersionAsync(input.TemplateName, input.TemplateBody, input.SetAsDefault ?? false, cancellationToken);
        return TypedResults.Json(
            new CreateProvisioningTemplateVersionResponse
            {
                TemplateArn = TemplateArn(request.Scope, input.TemplateName),
                TemplateName = input.TemplateName,
                VersionId = AwsResults.Integer(version.VersionId),
                IsDefaultVersion = isDefault,
            },
            ApiJsonContext.Default.CreateProvisioningTemplateVersionResponse);
    }

    private static async Task<JsonHttpResult<DescribeProvisioningTemplateVersionResponse>> DescribeProvisioningTemplateVersion(
        AwsRequest<DescribeProvisioningTemplateVersionRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var (template, version) = await templates.DescribeVersionAsync(request.Input.TemplateName, request.Input.VersionId, cancellationToken);
        return TypedResults.Json(
            new DescribeProvisioningTemplateVersionResponse
            {
                VersionId = AwsResults.Integer(version.VersionId),
                CreationDate = version.CreatedAt,
                TemplateBody = version.Body,
                IsDefaultVersion = version.VersionId == template.DefaultVersionId,
            },
            ApiJsonContext.Default.DescribeProvisioningTemplateVersionResponse);
    }

    private static async Task<JsonHttpResult<ListProvisioningTemplateVersionsResponse>> ListProvisioningTemplateVersions(
        AwsRequest<ListProvisioningTemplateVersionsRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var (template, page) = await templates.ListVersionsAsync(input.TemplateName, request.Page(input.MaxResults), cancellationToken);
        var items = page.Items
            .Select(v => new ProvisioningTemplateVersionSummary { VersionId = AwsResults.Integer(v.VersionId), CreationDate = v.CreatedAt, IsDefaultVersion = v.VersionId == template.DefaultVersionId })
            .ToList();
        return TypedResults.Json(new ListProvisioningTemplateVersionsResponse { Versions = items, NextToken = request.NextToken(page) }, ApiJsonContext.Default.ListProvisioningTemplateVersionsResponse);
    }

    private static async Task<ContentHttpResult> DeleteProvisioningTemplateVersion(
        AwsRequest<DeleteProvisioningTemplateVersionRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        await templates.DeleteVersionAsync(request.Input.TemplateName, request.Input.VersionId, cancellationToken);
        return AwsResults.Empty();
    }
}
