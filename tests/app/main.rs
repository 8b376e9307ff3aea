//! Integration tests: the real app, on a random port, against a fresh
//! PostgreSQL database per test.

mod helpers;

mod action_items;
mod admin;
mod api;
mod api_contract;
mod architecture;
mod audit;
mod auth;
mod browser;
mod causes;
mod cli;
mod csrf;
mod dashboard;
mod deletion;
mod demo;
mod document;
mod editing;
mod error_pages;
mod evidence;
mod export;
mod hardening;
mod history_view;
mod incident_list;
mod incidents;
mod insights;
mod markup;
mod metrics;
mod open_items;
mod openapi;
mod page_cache;
mod pages;
mod playbooks;
mod resilience;
mod review;
mod search;
mod similar;
mod storage;
mod timeline;
mod webhooks;
mod wording;
