"""auditor/config"""
