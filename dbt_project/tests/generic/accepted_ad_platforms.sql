{#-
    Fails for every value of the column that is not one of the project's ad
    platforms (macro `ad_platforms`: the staging folders of the campaign-day
    models), or with `reporting_extras=true` not one of those that report
    platform-specific metrics; `also` adds values (e.g. `all` for a total). A platform added in its own folders is accepted
    without editing this test's callers.
-#}
{% test accepted_ad_platforms(model, column_name, reporting_extras=false, also=[]) %}
{%- set names = ad_platforms(reporting_extras) -%}
{%- set platforms = names + also -%}
{%- if execute and not names -%}
    {{ exceptions.raise_compiler_error("accepted_ad_platforms found no ad platforms in the graph") }}
{%- endif %}

    select
        {{ column_name }} as value,
        count(*) as n_records

    from {{ model }}
    where {{ column_name }} is not null
        and {{ column_name }} not in ({% for platform in platforms %}'{{ platform }}'{{ ', ' if not loop.last }}{% else %}null{% endfor %})
    group by {{ column_name }}

{% endtest %}
